#!/usr/bin/env bash
# Schema fuzzing of the running API against the checked-in contract (openapi/openapi.json)
# with schemathesis 4.x, once per role: operator, institution_admin (curie), triager (curie)
# and anonymous. Each role gets a fresh SQLite database and server (so that what one role's
# run changes, such as a disabled account, cannot spoil another's). The staff roles send a
# bearer token and a tracking token (from an inquiry submitted for the run) on every request;
# the anonymous run sends neither, so that every staff operation must refuse it as documented.
#
#   scripts/schemathesis.sh                      # about 6 minutes on 2 cores
#   SECONDS_PER_ROLE=30 scripts/schemathesis.sh  # shorter
#   ROLES=triager scripts/schemathesis.sh        # one role
#   ROLES=anonymous CHECKS=not_a_server_error PHASES=fuzzing scripts/schemathesis.sh
#
# What runs (schemathesis' own defaults, spelt out so that a new release cannot narrow them):
#   - checks: all of them (--checks all): not_a_server_error, status_code_conformance,
#     content_type_conformance, response_headers_conformance, response_schema_conformance,
#     positive_data_acceptance, negative_data_rejection, missing_required_header,
#     unsupported_method, allow_header_conformance, ignored_auth, use_after_free,
#     ensure_resource_availability, object_level_authorization (the last one only acts with
#     several identities in one run, which this per-role script does not give it);
#   - generation: positive and negative data (--mode all);
#   - phases: examples, coverage, fuzzing and stateful. The contract declares no OpenAPI
#     links: the stateful phase runs on the links schemathesis infers, from the Location
#     headers it sees and from response fields named like path parameters (inquiry_create's
#     `id` to {inquiry_id}, contact_create's `institution_id` and `id` to {institution_id} and
#     {contact_id}, ...). It cannot infer what the server needs beyond path parameters: the
#     ETag a change must send back as If-Match, the tracking_token of a new inquiry as
#     X-Tracking-Token, a refresh_token for auth_refresh, or referrals[].id of a submission.
# The time budget (SECONDS_PER_ROLE, --max-time) covers all the phases of a role; fuzzing and
# stateful repeat until it is spent; MAX_EXAMPLES bounds each fuzzing pass per operation.
# Reports (JSON, JUnit, gzipped NDJSON events) go to artifacts/schemathesis/<role>/. Prints,
# per role, the operations tested, the cases generated and the failures; exits 1 when any role
# has a failure or schemathesis itself errs.
#
# Exclusions, each with its reason (beyond the one below: the expected statuses of three checks
# in the generated TOML, and the hooks of scripts/schemathesis_hooks.py, each commented there):
#   - 412 for a generated If-Match, 428 for a missing one, 413 for an over-long body: the
#     documented answers, which those checks do not expect by default;
#   - opaque cursors (400 invalid_cursor), `from` after `to` (422 invalid_period),
#     `unassigned=true` with `assigned` on the queue or its export (400 invalid_query), a reused
#     Idempotency-Key (422 idempotency_key_reused), ids in bodies naming nothing (422
#     unknown_institution/unknown_contact at that field only), a webhook URL refused by the
#     address policy (422 url_not_allowed at /url: https and public addresses after DNS), and
#     a new inquiry read with the
#     run's tracking token (404 by design): rules no schema states; the hook drops exactly these.
# Exclusions, each with its reason:
#   - operation auth_logout (POST /v1/auth/logout), in the staff roles' runs only: it ends the
#     very session whose bearer token the run sends, so every later request of the run would be
#     a 401 and test nothing. The anonymous run, which has no session to end, includes it. The
#     logout is covered by the SDK journeys (scripts/e2e.sh) and the integration suite.
# The reports are not sanitized (--output-sanitize false): the reproductions must carry the very
# tokens and Idempotency-Keys that failed. They are a throwaway server's (random JWT secret,
# loopback only, 15 minutes), worth nothing once the run ends.
# Server settings for the fuzzed server (configuration, not exclusions): GET /metrics wants a
# --metrics-token, as the contract declares; the per-address
# throttles (submissions per minute, failed logins, failed tracking look-ups) are raised so
# that the run is not answered 429 after its first few dozen requests; 429 stays documented
# and is tested by the integration suite.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SCHEMATHESIS_VERSION=4.32.5
SPEC="${SPEC:-$REPO_DIR/openapi/openapi.json}"
SECONDS_PER_ROLE="${SECONDS_PER_ROLE:-80}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
# Every failing check of an operation is reported, not only the first one (set to 0 for the
# first only, which is faster to read when a whole family of operations fails the same way).
CONTINUE_ON_FAILURE="${CONTINUE_ON_FAILURE:-1}"
SEED="${SEED:-$(date +%s)}"
ROLES="${ROLES:-operator institution_admin triager anonymous}"
CHECKS="${CHECKS:-all}"
MODE="${MODE:-all}"
PHASES="${PHASES:-examples,coverage,fuzzing,stateful}"
EXCLUDE_OPERATIONS=(auth_logout)
VENV="$SCRIPTS_DIR/.venv"
REPORTS="$REPO_DIR/artifacts/schemathesis"

require_binary
[ -f "$SPEC" ] || die "no contract at $SPEC"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into scripts/.venv"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"

json_post() { # URL BODY [HEADER...]: prints the body; fails on a non-2xx answer
    local url="$1" body="$2"; shift 2
    local args=(-sS --fail-with-body -X POST "$url" -H 'Content-Type: application/json' -d "$body")
    local h; for h in "$@"; do args+=(-H "$h"); done
    curl "${args[@]}"
}

login() { # EMAIL PASSWORD: prints an access token
    json_post "$BASE_URL/v1/auth/token" "{\"email\":\"$1\",\"password\":\"$2\"}" | jq -er .access_token
}

INQUIRY='{"inquiry_type":"clinical_trial","therapeutic_areas":["prostate"],"modalities":["radiopharmaceutical"],
  "stage":"phase_1","preferred_institutions":["curie"],"title":"Phase 1 sites for a PSMA radioligand",
  "summary":"Two French sites for a first-in-human lutetium-177 PSMA trial.","non_confidential":true,
  "submitter":{"organization":"Helios Therapeutics","organization_type":"biotech","name":"Dr Anna Keller",
  "email":"anna.keller@helios-tx.example","country":"DE"}}'

declare -A RESULT
total_failures=0
errored=0
mkdir -p "$REPORTS"

run_role() {
    local role="$1"
    log "role $role: fresh database and server"
    make_database sqlite
    create_user ops@example.org 'operator passphrase' operator
    create_user admin@curie.fr 'curie admin passphrase' institution_admin curie
    create_user triage@curie.fr 'curie triager passphrase' triager curie
    start_server --submissions-per-minute 1000000 --tracking-failures-per-address 1000000 \
        --login-max-failures-per-address 1000000 --login-max-failures-per-account 1000000 \
        --refreshes-per-minute 1000000 --metrics-token="$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"

    local admin_token token=
    admin_token="$(login admin@curie.fr 'curie admin passphrase')"
    case "$role" in
        operator) token="$(login ops@example.org 'operator passphrase')" ;;
        institution_admin) token="$admin_token" ;;
        triager) token="$(login triage@curie.fr 'curie triager passphrase')" ;;
        anonymous) ;;
    esac

    # Known objects, so that fuzzed ids sometimes hit real ones instead of always a 404.
    local contact submission users
    contact="$(json_post "$BASE_URL/v1/institutions/curie/contacts" \
        '{"name":"Dr Claire Martin","email":"claire.martin@curie.example","expertise":{"inquiry_types":["clinical_trial"],"therapeutic_areas":["prostate"],"modalities":["radiopharmaceutical"]}}' \
        "Authorization: Bearer $admin_token" | jq -er .id)"
    submission="$(json_post "$BASE_URL/v1/inquiries" "$INQUIRY" "Idempotency-Key: schemathesis-$role")"
    local inquiry_id referral_id tracking_token
    inquiry_id="$(jq -er .id <<<"$submission")"
    referral_id="$(jq -er '.referrals[0].id' <<<"$submission")"
    tracking_token="$(jq -er .tracking_token <<<"$submission")"
    users="$(curl -sS --fail-with-body "$BASE_URL/v1/institutions/curie/users?limit=100" \
        -H "Authorization: Bearer $admin_token" | jq -c '[.items[].id]')"

    local config="$WORK_DIR/schemathesis.toml"
    cat >"$config" <<TOML
# Schemathesis keeps its state with the run, never in the repository.
[cache]
directory = "$WORK_DIR/schemathesis-cache"

# Without credentials (the anonymous run), schemathesis would otherwise sign up through what it
# takes for a registration (user_create, staff only) and log in: the anonymous run must stay
# anonymous. (4.32.5 also crashes in that sign-up on user_create's body.)
[auth]
auto-signup = false

[dictionaries.inquiry_ids]
values = ["$inquiry_id"]
[dictionaries.referral_ids]
values = ["$referral_id"]
[dictionaries.institution_ids]
values = ["curie", "aphp", "pasteur", "gustave-roussy"]
[dictionaries.contact_ids]
values = ["$contact"]
[dictionaries.user_ids]
values = $users

[parameters]
"path.inquiry_id" = { dictionary = "inquiry_ids", probability = 0.5 }
"path.referral_id" = { dictionary = "referral_ids", probability = 0.5 }
"path.institution_id" = { dictionary = "institution_ids", probability = 0.7 }
"path.contact_id" = { dictionary = "contact_ids", probability = 0.5 }
"path.user_id" = { dictionary = "user_ids", probability = 0.5 }

# Exclusions by status, each a documented answer the check does not expect:
# 412: the If-Match names another version than the current one (the generator cannot know it).
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]

# 428 Precondition Required (RFC 6585) is the documented answer to a missing If-Match.
[checks.missing_required_header]
expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]

# 413: an over-long field written as escapes can make a body exceed the body limit before it
# is validated.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
TOML

    local out="$REPORTS/$role"
    rm -rf "$out"; mkdir -p "$out"
    local exclude=() op credentials=() extra=()
    [ "$CONTINUE_ON_FAILURE" = 0 ] || extra+=(--continue-on-failure)
    if [ "$role" != anonymous ]; then
        credentials=(-H "Authorization: Bearer $token" -H "X-Tracking-Token: $tracking_token")
        for op in "${EXCLUDE_OPERATIONS[@]}"; do exclude+=(--exclude-operation-id "$op"); done
    fi
    log "role $role: schemathesis for ${SECONDS_PER_ROLE}s (seed $SEED, checks $CHECKS, mode $MODE, phases $PHASES) against $BASE_URL"
    local rc=0
    # Run from the scratch folder: Hypothesis keeps its example database in the working directory.
    (cd "$WORK_DIR" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$SCRIPTS_DIR" \
        timeout --kill-after=10 $(( SECONDS_PER_ROLE + 120 )) \
        "$VENV/bin/schemathesis" --config-file "$config" run "$SPEC" \
            --url "$BASE_URL" \
            "${credentials[@]}" \
            --checks "$CHECKS" \
            --mode "$MODE" \
            --phases "$PHASES" \
            "${exclude[@]}" \
            --max-examples "$MAX_EXAMPLES" \
            --max-time "$SECONDS_PER_ROLE" \
            --request-timeout 10 \
            --seed "$SEED" \
            --workers 1 \
            --no-color \
            --output-sanitize false \
            "${extra[@]}" \
            --generation-database none \
            --report json,junit,ndjson --report-dir "$out") \
            >"$out/output.txt" 2>&1 || rc=$?
    # The failures with their reproductions, then the summary.
    awk '/^=+ FAILURES =+$/ { on = 1 } /^=+ SUMMARY =+$/ { on = 0 } on && n++ < 400' "$out/output.txt"
    tail -n 25 "$out/output.txt"

    # The events (every request and response of the run) are large: keep them compressed.
    gzip -f "$out"/ndjson-*.ndjson 2>/dev/null || true
    local report
    report="$(ls "$out"/json-*.json 2>/dev/null | head -n 1 || true)"
    if [ -z "$report" ]; then
        RESULT[$role]="no report (schemathesis exit $rc): see $out/output.txt"
        errored=1
    else
        local line failures errors
        line="$(jq -r '"\(.operations.tested) operations tested of \(.operations.selected) selected, \(.test_cases.generated) cases generated, \(.test_cases.unique_failures) unique failures in \(.test_cases.with_failures) cases, \(.errors | length) errors"' "$report")"
        failures="$(jq -r '.test_cases.unique_failures' "$report")"
        errors="$(jq -r '.errors | length' "$report")"
        total_failures=$(( total_failures + failures ))
        [ "$errors" = 0 ] || errored=1
        RESULT[$role]="$line; by check: $(jq -r '[.failures[] | "\(.code) \(.title): \(.count) (\(.operations | join(", ")))"] | join("; ") | if . == "" then "none" else . end' "$report")"
    fi
    if grep -q 'panicked' "$SERVER_LOG"; then
        RESULT[$role]+="; SERVER PANICKED (see $out/server.log)"
        errored=1
    fi
    cp "$SERVER_LOG" "$out/server.log"

    stop_server
    # The database goes with WORK_DIR at exit; free it now for the next role.
    rm -rf "$WORK_DIR"
}

for role in $ROLES; do
    case "$role" in operator|institution_admin|triager|anonymous) ;; *) die "unknown role $role" ;; esac
    run_role "$role"
done

echo
echo "================ schemathesis $SCHEMATHESIS_VERSION, seed $SEED, ${SECONDS_PER_ROLE}s per role ================"
echo "checks: $CHECKS; mode: $MODE; phases: $PHASES; at most $MAX_EXAMPLES examples per operation and pass"
echo "excluded operations (staff roles): ${EXCLUDE_OPERATIONS[*]} (logout would revoke the run's own token)"
for role in $ROLES; do
    printf '%-18s %s\n' "$role:" "${RESULT[$role]}"
done
if [ "$total_failures" -gt 0 ] || [ "$errored" -ne 0 ]; then
    echo "schemathesis: FAILED ($total_failures unique failures; reports in artifacts/schemathesis/)"
    exit 1
fi
echo "schemathesis: passed"
