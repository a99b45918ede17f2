# CareSlot's image: the API (gunicorn) and, with another command, the Celery worker and beat or
# the migrations (`python manage.py migrate`, run once before the rest starts: docker-compose.yml's
# `migrate` service). Production settings: SECRET_KEY, FIELD_ENCRYPTION_KEY and ALLOWED_HOSTS
# must be set when a container starts (README.md, "Production").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=config.settings.production

# The processes run as `app`, which owns /app.
RUN useradd --create-home --uid 1000 app && install -d -o app -g app /app
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY --chown=app:app . .
USER app
# Static files (admin, Swagger UI, Redoc) are collected into the image; whitenoise serves them.
# Collecting needs no secret, and the image holds none, so it runs with the base settings.
RUN DJANGO_SETTINGS_MODULE=config.settings.base python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8000
# Behind deploy/nginx.conf, which buffers requests and answers for the sync workers.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
