#!/usr/bin/env bash
# Checks the interactive API reference: starts the current target/debug/guichet (SQLite, fresh
# database, free loopback port), loads http://127.0.0.1:PORT/docs/ in headless Chromium
# (Debian's `chromium`, installed with apt-get when missing; no other download), and checks in
# the rendered DOM that the operations are there: Swagger UI operation blocks (`opblock`), at
# least one per operation of the contract, with operation ids and summaries such as
# `inquiry_create` / "Submit an inquiry". Saves a screenshot to artifacts/docs.png and the DOM
# to artifacts/docs.html (not in git). The browser is kept off the network: every host but
# 127.0.0.1 resolves nowhere.
#
#   scripts/docs_check.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_binary
ARTIFACTS="$REPO_DIR/artifacts"
mkdir -p "$ARTIFACTS"

if ! command -v chromium >/dev/null 2>&1; then
    log "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || die "chromium is not installed and could not be installed"

make_database sqlite
start_server
DOCS_URL="$BASE_URL/docs/"

chromium_run() { # extra flags...
    local profile
    profile="$(mktemp -d -t guichet-chromium.XXXXXX)"
    timeout --kill-after=10 120 chromium \
        --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --mute-audio --hide-scrollbars \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --user-data-dir="$profile" \
        --virtual-time-budget=15000 \
        "$@" 2> "$WORK_DIR/chromium.stderr"
    local rc=$?
    rm -rf "$profile"
    return $rc
}

log "loading $DOCS_URL in headless chromium (DOM)"
chromium_run --dump-dom "$DOCS_URL" > "$ARTIFACTS/docs.html" \
    || { tail -n 20 "$WORK_DIR/chromium.stderr" >&2; die "chromium could not load $DOCS_URL"; }

log "screenshot to artifacts/docs.png"
rm -f "$ARTIFACTS/docs.png"
chromium_run --window-size=1280,2400 --screenshot="$ARTIFACTS/docs.png" "$DOCS_URL" >/dev/null \
    || { tail -n 20 "$WORK_DIR/chromium.stderr" >&2; die "chromium could not take the screenshot"; }
[ -s "$ARTIFACTS/docs.png" ] || die "no screenshot was written"

# What the contract says should be on the page.
curl -sS --fail "$BASE_URL/openapi.json" -o "$WORK_DIR/openapi.json"
python3 - "$WORK_DIR/openapi.json" "$ARTIFACTS/docs.html" <<'PY'
import json, re, sys
spec = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8").read()
ops = [(m.upper(), p, o) for p, item in spec["paths"].items() for m, o in item.items()
       if isinstance(o, dict) and "operationId" in o]
blocks = len(re.findall(r'class="opblock opblock-', dom))
problems = []
if "swagger-ui" not in dom:
    problems.append("no Swagger UI container in the DOM")
if re.search(r'Failed to load API definition|Fetch error', dom):
    problems.append("Swagger UI reports that it could not load the API definition")
if blocks < len(ops):
    problems.append(f"{blocks} operation blocks rendered, expected at least {len(ops)}")
missing_ids = [o["operationId"] for _, _, o in ops if o["operationId"] not in dom]
missing_summaries = [o["operationId"] for _, _, o in ops if o.get("summary") and o["summary"] not in dom]
if "inquiry_create" not in dom:
    problems.append("operation id inquiry_create is not in the DOM")
if missing_summaries:
    problems.append(f"summaries missing for {missing_summaries}")
title = spec["info"]["title"]
if title not in dom:
    problems.append(f"the title {title!r} is not in the DOM")
print(f"    {len(ops)} operations in the contract; {blocks} operation blocks rendered; "
      f"{len(ops) - len(missing_ids)} operation ids and {len(ops) - len(missing_summaries)} summaries found")
if missing_ids:
    print(f"    (operation ids not shown on the page: {', '.join(missing_ids)})")
if problems:
    for p in problems:
        print(f"    PROBLEM: {p}")
    sys.exit(1)
PY
log "docs check passed: $DOCS_URL renders every operation; screenshot artifacts/docs.png"
