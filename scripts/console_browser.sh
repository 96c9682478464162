#!/usr/bin/env bash
# The triage console in a real browser: starts the current target/debug/guichet (this script
# builds nothing; GUICHET_BIN=... for another binary) on SQLite with a fresh database and a free
# loopback port, creates a Curie and a Pasteur triager with the CLI, and runs
# scripts/console_browser.py with the CI venv target/ci-python: Debian's headless Chromium
# driven by Selenium through Debian's chromedriver, off the network, works a referral from `new`
# to `accepted`, checks isolation, CSRF and sign-out, and runs axe-core (vendored under
# target/axe for the test only) on each page. Screenshots go to artifacts/console/ (not in git).
#
#   scripts/console_browser.sh           # the check (CI)
#   scripts/console_browser.sh --docs    # also refreshes docs/console-queue.png and
#                                        # docs/console-referral.png (README's pictures, 1280x900)
#
# What is missing is installed: chromium and chromium-driver with apt-get, selenium into the
# venv with pip, axe-core with npm (`npm install --no-save --prefix target/axe`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SELENIUM_VERSION=4.51.0
AXE_VERSION=4.14.1
DOCS=()
case "${1:-}" in
    "") ;;
    --docs) DOCS=(--docs "$REPO_DIR/docs") ;;
    *) echo "usage: $0 [--docs]" >&2; exit 2 ;;
esac

require_binary
VENV="$REPO_DIR/target/ci-python"
AXE_DIR="$REPO_DIR/target/axe"
AXE_JS="$AXE_DIR/node_modules/axe-core/axe.min.js"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q chromium chromium-driver >/dev/null
fi
[ -x /usr/bin/chromium ] || die "chromium is not installed and could not be installed"
[ -x /usr/bin/chromedriver ] || die "chromium-driver (/usr/bin/chromedriver) is not installed and could not be installed"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || die "cannot create the venv $VENV"
fi
if ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
    log "installing selenium $SELENIUM_VERSION into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "selenium==$SELENIUM_VERSION" \
        || die "cannot install selenium into $VENV"
fi
if [ ! -s "$AXE_JS" ]; then
    log "installing axe-core $AXE_VERSION into $AXE_DIR (for the test only)"
    command -v npm >/dev/null 2>&1 || die "npm is not installed: axe-core comes from the npm registry"
    npm install --no-save --silent --prefix "$AXE_DIR" "axe-core@$AXE_VERSION" >/dev/null \
        || die "cannot install axe-core with npm"
fi
[ -s "$AXE_JS" ] || die "no $AXE_JS after npm install"

make_database sqlite
CONSOLE_BROWSER_PASSWORD="console browser passphrase"
export CONSOLE_BROWSER_PASSWORD
create_user claire@curie.fr "$CONSOLE_BROWSER_PASSWORD" triager curie
create_user louis@pasteur.fr "$CONSOLE_BROWSER_PASSWORD" triager pasteur
start_server

# Selenium finds nothing on the network: both paths are given, and its manager stays offline.
export SE_OFFLINE=true
rc=0
"$VENV/bin/python" "$SCRIPTS_DIR/console_browser.py" \
    --base-url "$BASE_URL" --curie-email claire@curie.fr --pasteur-email louis@pasteur.fr \
    --axe "$AXE_JS" --artifacts "$REPO_DIR/artifacts/console" "${DOCS[@]}" || rc=$?

if grep -qiE 'panicked|internal_error' "$SERVER_LOG"; then
    echo "--- server log (errors) ---" >&2
    grep -iE 'panicked|internal_error' "$SERVER_LOG" | head -20 >&2
    rc=1
fi
[ "$rc" = 0 ] || die "the console failed in the browser (see above; screenshots in artifacts/console/)"
log "console browser check passed; screenshots in artifacts/console/"
