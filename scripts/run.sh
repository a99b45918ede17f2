#!/usr/bin/env bash
# Serve the API on http://127.0.0.1:8000 with gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/gunicorn config.wsgi --bind 127.0.0.1:8000 --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - --graceful-timeout 10
