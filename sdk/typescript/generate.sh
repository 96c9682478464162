#!/usr/bin/env bash
# Generates the TypeScript types of the Guichet API from the checked-in contract
# (../../openapi/openapi.json) with the pinned openapi-typescript, into ./generated/schema.d.ts
# (ignored by git). Dependencies come from package-lock.json (npm ci).
#
#   sdk/typescript/generate.sh
#   (cd sdk/typescript && npx tsx journey.ts BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
[ -f ../../openapi/openapi.json ] || { echo "generate.sh: no contract at openapi/openapi.json" >&2; exit 1; }

if [ ! -x node_modules/.bin/openapi-typescript ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> generating sdk/typescript/generated/schema.d.ts"
mkdir -p generated
npx --no-install openapi-typescript ../../openapi/openapi.json -o generated/schema.d.ts
echo "    type-check journey.ts against them with: (cd sdk/typescript && npx tsc --noEmit -p .)"
