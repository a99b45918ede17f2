"""WSGI entry point: `gunicorn config.wsgi`. A web process bounds every statement of its
requests to `DB_STATEMENT_TIMEOUT_MS`."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from core.db import statement_timeout_default

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()
statement_timeout_default(settings.DB_STATEMENT_TIMEOUT_MS)
