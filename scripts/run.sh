#!/usr/bin/env bash
# Serve the API on http://127.0.0.1:8000 with gunicorn. When Redis answers (REDIS_URL, else
# redis://127.0.0.1:6379/0), a Celery worker and beat run beside it and stop with it;
# otherwise background work runs in-process (REDIS_URL empty).
set -euo pipefail
cd "$(dirname "$0")/.."

serve() {
  exec .venv/bin/gunicorn config.wsgi --bind 127.0.0.1:8000 --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - --graceful-timeout 10
}

REDIS_URL="$(.venv/bin/python scripts/services.py --redis-url)"
export REDIS_URL
if [[ -z "$REDIS_URL" ]]; then
  echo "Redis is not reachable: no Celery worker or beat; background work runs in-process."
  serve
fi

echo "Redis answers at $REDIS_URL: starting a Celery worker and beat beside the web server."
started=()
stop_all() {
  trap - EXIT INT TERM
  kill "${started[@]}" 2>/dev/null || true
  wait "${started[@]}" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/celery -A config worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" &
started+=("$!")
.venv/bin/celery -A config beat --loglevel INFO &
started+=("$!")
serve &
started+=("$!")
# When the web server stops (or this script is stopped), the worker and beat stop with it.
wait "${started[-1]}"
