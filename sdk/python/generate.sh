#!/usr/bin/env bash
# Generates the Python client of the Guichet API from the checked-in contract
# (../../openapi/openapi.json) with a pinned openapi-python-client, into ./generated/, and
# installs it into ./.venv (created on first use). Both folders are ignored by git.
#
#   sdk/python/generate.sh            # then: sdk/python/.venv/bin/python sdk/python/journey.py ...
set -euo pipefail

OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
HERE="$(cd "$(dirname "$0")" && pwd)"
SPEC="$HERE/../../openapi/openapi.json"
VENV="$HERE/.venv"
OUT="$HERE/generated"
PYTHON="${PYTHON:-python3}"

[ -f "$SPEC" ] || { echo "generate.sh: no contract at $SPEC" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$OPENAPI_PYTHON_CLIENT_VERSION"; then
    echo "==> installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
fi

echo "==> generating the client from openapi/openapi.json into sdk/python/generated"
rm -rf "$OUT"
"$VENV/bin/openapi-python-client" generate \
    --path "$SPEC" \
    --config "$HERE/config.yml" \
    --meta setup \
    --output-path "$OUT" \
    --fail-on-warning

echo "==> installing the generated client into the venv"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$OUT"
# Its run-time dependencies (httpx, attrs, python-dateutil) come with openapi-python-client.
"$VENV/bin/python" -c 'import guichet_client; print("    guichet_client installed")'
