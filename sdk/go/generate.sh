#!/usr/bin/env bash
# Generates the Go client of the Guichet API from the checked-in contract
# (../../openapi/openapi.json) with a pinned openapi-generator (the `go` generator), into
# ./client/ (module guichet.local/sdk/guichet, package guichet), then builds it and the journey
# (./journey/, which points at ./client/ with a `replace` directive). openapi-generator-cli comes
# from PyPI (the wheel bundles the jar) and is installed into ./.venv on first use; it runs on
# Java (11 or later). Both ./client/ and ./.venv/ are ignored by git.
#
#   sdk/go/generate.sh            # then: sdk/go/.bin/journey BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD
#
# Options, and why (see sdk/README.md):
#   enumClassPrefix=true     enum constants are package-level Go identifiers: without the
#                            prefix `OTHER` (DeclineReason, InquiryType, OrganizationType) and
#                            `INFO_REQUESTED`, `ACCEPTED`, `WITHDRAWN` (InquiryStatus,
#                            ReferralStatus) are declared twice and the client does not compile.
#   disallowAdditionalPropertiesIfNotPresent=false
#                            the OpenAPI meaning of a schema without `additionalProperties`
#                            (extra keys allowed). With the generator's default (true) every
#                            response model decodes with DisallowUnknownFields: a field added
#                            to a response breaks every Go client already deployed, and
#                            GET /openapi.json (OpenApiDocument lists only 3 of its keys) never
#                            decodes. Request models keep `additionalProperties: false`.
#   apiTests/modelTests=false  the generated test stubs import testify, an external module.
# The generated go.mod requires no module: the build runs with GOFLAGS=-mod=mod and
# GOPROXY=off, and needs nothing from the network.
set -euo pipefail

OPENAPI_GENERATOR_VERSION=7.26.0
HERE="$(cd "$(dirname "$0")" && pwd)"
SPEC="$HERE/../../openapi/openapi.json"
VENV="$HERE/.venv"
OUT="$HERE/client"
PYTHON="${PYTHON:-python3}"

[ -f "$SPEC" ] || { echo "generate.sh: no contract at $SPEC" >&2; exit 1; }
command -v java >/dev/null 2>&1 || {
    echo "generate.sh: java is not installed (openapi-generator needs Java 11 or later; Debian: apt-get install default-jre-headless)" >&2
    exit 1
}
command -v go >/dev/null 2>&1 || {
    echo "generate.sh: go is not installed (Debian: apt-get install golang-go)" >&2
    exit 1
}

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [ "$("$VENV/bin/openapi-generator-cli" version 2>/dev/null || true)" != "$OPENAPI_GENERATOR_VERSION" ]; then
    echo "==> installing openapi-generator-cli $OPENAPI_GENERATOR_VERSION"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "openapi-generator-cli==$OPENAPI_GENERATOR_VERSION"
fi

# The contract's info.version becomes the package version and the User-Agent (guichet-go/VERSION).
API_VERSION="$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["info"]["version"])' "$SPEC")"

echo "==> generating the Go client from openapi/openapi.json ($API_VERSION) into sdk/go/client"
rm -rf "$OUT"
log="$(mktemp -t guichet-go-generate.XXXXXX)"
if ! "$VENV/bin/openapi-generator-cli" generate \
        --input-spec "$SPEC" \
        --generator-name go \
        --output "$OUT" \
        --package-name guichet \
        --git-host guichet.local --git-user-id sdk --git-repo-id guichet \
        --global-property apiTests=false,modelTests=false \
        --additional-properties "enumClassPrefix=true,disallowAdditionalPropertiesIfNotPresent=false,hideGenerationTimestamp=true,packageVersion=$API_VERSION,httpUserAgent=guichet-go/$API_VERSION" \
        >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "generate.sh: openapi-generator failed" >&2
    exit 1
fi
# Its warnings, without the banner and the list of files written.
grep -E '\] (WARN|ERROR)' "$log" | grep -v 'OpenAPI 3.1 support is still in beta' | sed 's/^/    /' || true
rm -f "$log"

# The generated go.mod must need nothing from outside the standard library.
if grep -Eq '^\s*(require\s+)?[a-z0-9.-]+\.[a-z0-9]+/\S+\s+v[0-9]' "$OUT/go.mod"; then
    echo "generate.sh: the generated go.mod requires external modules, which cannot be fetched:" >&2
    cat "$OUT/go.mod" >&2
    exit 1
fi

export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
echo "==> building the client and the journey ($(go version | cut -d' ' -f3))"
(cd "$OUT" && gofmt -w . && go vet ./...)
(cd "$HERE/journey" && go vet ./... && go build -o "$HERE/.bin/journey" .)
echo "    run it with: sdk/go/.bin/journey BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD"
