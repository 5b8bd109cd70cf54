#!/bin/sh
# A DSN client written with curl alone: list the satellites, then the ground stations (/gs).
# curl retries 429 and 5xx answers itself and waits as Retry-After asks (--retry).
set -e
curl --silent --show-error --fail --retry 3 --retry-max-time 30 \
     -H "Authorization: Bearer $DSN_API_TOKEN" "$DSN_BASE_URL/satellites" > /dev/null
curl --silent --show-error --fail --retry 3 --retry-max-time 30 \
     -H "Authorization: Bearer $DSN_API_TOKEN" "$DSN_BASE_URL/gs" > /dev/null
echo "satellites and stations read"
