#!/bin/sh
# The contract README ("During an incident") asks of an API deployed elsewhere: load the toggles
# file the stack writes on the API host, when present, into the environment, then start. A
# restart (docker restart --time N) therefore picks up a changed file.
set -eu
toggles=${VEZA_TOGGLES_FILE:-/etc/veza/backend-api-toggles.env}
if [ -r "$toggles" ]; then
  set -a
  . "$toggles"
  set +a
fi
exec python3 "${VEZA_STANDIN:-/app/standin.py}"
