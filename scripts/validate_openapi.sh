#!/usr/bin/env bash
# Validates the checked-in contract (openapi/openapi.json) with an independent validator,
# openapi-spec-validator (PyPI), installed into scripts/.venv-validator on first use.
set -euo pipefail
SCRIPTS_DIR="$(cd "$(dirname "$0")" && pwd)"
REPO_DIR="$(cd "$SCRIPTS_DIR/.." && pwd)"
VENV="$SCRIPTS_DIR/.venv-validator"
VERSION=0.7.2

if [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
    echo "==> installing openapi-spec-validator $VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$VERSION"
fi
echo "==> validating openapi/openapi.json"
"$VENV/bin/openapi-spec-validator" "$REPO_DIR/openapi/openapi.json"
