#!/usr/bin/env bash
# `make run`, once scripts/services.py has a database for it (DATABASE_URL): migrate, collect the
# static files and serve the API on http://127.0.0.1:8000 (PORT) with gunicorn. Background work runs
# beside it and stops with it: when Redis answers (REDIS_URL, else redis://127.0.0.1:6379/0), a
# Celery worker and beat; otherwise `manage.py run_background`, which runs the beat schedule and
# sends the emails the web processes wake it for (RELAY_IN_PROCESS, core/background.py).
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0

REDIS_URL="$(.venv/bin/python scripts/services.py --redis-url)"
export REDIS_URL

started=()
stop_all() {
  trap - EXIT INT TERM
  kill "${started[@]}" 2>/dev/null || true
  wait "${started[@]}" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "$REDIS_URL" ]]; then
  echo "No Redis: the beat schedule and the email relay run in one process beside the web server."
  export RELAY_IN_PROCESS=true
  .venv/bin/python manage.py run_background &
  started+=("$!")
else
  echo "Redis answers at $REDIS_URL: starting a Celery worker and beat beside the web server."
  .venv/bin/celery -A config worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
  started+=("$!")
  .venv/bin/celery -A config beat --loglevel INFO &
  started+=("$!")
fi
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:${PORT:-8000}" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - --graceful-timeout 10 &
started+=("$!")
# When the web server stops (or this script is stopped), the background work stops with it.
wait "${started[-1]}"
