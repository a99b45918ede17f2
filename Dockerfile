# CareSlot's image: the API (gunicorn) and, with another command, the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=config.settings.base

# The processes run as `app`, which owns /app (celery beat keeps its schedule file there).
RUN useradd --create-home --uid 1000 app && install -d -o app -g app /app
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY --chown=app:app . .
USER app
# Static files (admin, Swagger UI, Redoc) are collected into the image; whitenoise serves them.
RUN python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn config.wsgi --bind 0.0.0.0:8000"]
