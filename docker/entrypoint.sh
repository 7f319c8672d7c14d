#!/bin/sh
# Apply migrations and check the deployment settings, then run the given command.
set -eu
python manage.py migrate --noinput
python manage.py check --deploy
exec "$@"
