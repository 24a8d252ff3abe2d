#!/usr/bin/env bash
# The sharepoint-list source through the real `extdata` CLI against a real graphsim process
# (tools/graphsim, demo fixture) on 127.0.0.1, port 0. Every check asserts what the CLI printed
# and its exit code *and* what graphsim saw (GET /_graphsim/counters): token requests, requests
# per route, per status and per URL, throttles and injected faults. Faults are set per check
# over PUT /_graphsim/faults; counters are reset before each check.
#
# Token expiry mid-sync: graphsim's `expire_token` fault (docs/graphsim.md) expires the bearer
# token of one chosen Graph request for good; graphsim answers it, and any later request with
# that token, 401 InvalidAuthenticationToken "Access token has expired or is not yet valid." as
# Graph does, so only a newly issued token works (check 3).
#
# No sleeps for timing: waits are only polls for a port file. The one timing assertion is a
# lower bound (a Retry-After of 1.128 s, twice, cannot take less than 2.256 s).
#
# Env: EXTDATA_BIN, GRAPHSIM_BIN, EXTDATA_SOURCE_DIR (set by ctest). Needs curl and jq.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
# Hermetic: secrets reach extdata only where this script passes them.
unset SP_SECRET SP_EXPIRED_SECRET SP_NOCONSENT_SECRET SP_USERREAD_SECRET EXTDATA_DATA

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool is required (scripts/install-deps)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

# The fixture's credentials (docs/graphsim.md). They reach extdata only through ${env:...}.
VALID_CLIENT=11111111-1111-4111-8111-111111111111
VALID_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2'
EXPIRED_CLIENT=22222222-2222-4222-8222-222222222222
EXPIRED_SECRET='Exp7Q~graphsimExpiredSecret.Value-02aB'
NOCONSENT_CLIENT=33333333-3333-4333-8333-333333333333
NOCONSENT_SECRET='Nc5Q~graphsimNoConsentSecret.Value-03cD'
USERREAD_CLIENT=44444444-4444-4444-8444-444444444444
USERREAD_SECRET='Usr4Q~graphsimUserReadAllSecret.Val-04eF'
SECRETS=("$VALID_SECRET" "$EXPIRED_SECRET" "$NOCONSENT_SECRET" "$USERREAD_SECRET")

FIXTURE_CUSTOMERS=60
PAGE_SIZE=25
PAGES=3 # 25 + 25 + 10

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-sharepoint-cli.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for_port_file() { # FILE PID LOG NAME
  for _ in $(seq 400); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  [[ -s "$1" ]] && return 0
  cat "$3" >&2
  echo "$4 did not start" >&2
  echo "0 passed, 1 failed"
  exit 1
}

# ------------------------------------------------------------------ graphsim
"$GRAPHSIM_BIN" --fixture "$SRC/tools/graphsim/fixtures/demo.yaml" --listen 127.0.0.1:0 \
  --port-file "$WORK/graphsim.port" >"$WORK/graphsim.log" 2>&1 &
PIDS+=($!)
wait_for_port_file "$WORK/graphsim.port" "${PIDS[-1]}" "$WORK/graphsim.log" graphsim
GRAPHSIM_PORT=$(cat "$WORK/graphsim.port")
G="http://127.0.0.1:$GRAPHSIM_PORT"

# ------------------------------------------------------------------ configuration
sp_source() { # NAME CLIENT_ID SECRET_ENV LIST [GRAPH_BASE] [SITE]
  cat <<EOF
  - name: $1
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: $2
    client_secret: \${env:$3}
    site: ${6:-https://contoso.sharepoint.com/sites/Sales}
    list: $4
    page_size: $PAGE_SIZE
    sync: full
    authority: $G
    graph: ${5:-$G}/v1.0
EOF
}
{
  echo "sources:"
  sp_source customers "$VALID_CLIENT" SP_SECRET Customers
  sp_source expired_secret "$EXPIRED_CLIENT" SP_EXPIRED_SECRET Customers
  sp_source no_consent "$NOCONSENT_CLIENT" SP_NOCONSENT_SECRET Customers
  sp_source wrong_permission "$USERREAD_CLIENT" SP_USERREAD_SECRET Customers
  sp_source unknown_site "$VALID_CLIENT" SP_SECRET Customers "$G" \
    https://contoso.sharepoint.com/sites/Marketing
  sp_source unknown_list "$VALID_CLIENT" SP_SECRET Custmers
  # The demo's manual two-step flow (a rest source) with a required variable.
  cat <<EOF
  - name: cities
    type: rest
    variables:
      country: {required: true}
    auth:
      type: oauth2
      token_url: $G/{tenant}/oauth2/v2.0/token
      tenant: contoso.onmicrosoft.com
      client_id: $VALID_CLIENT
      client_secret: \${env:SP_SECRET}
      scope: https://graph.microsoft.com/.default
    steps:
      - name: resolve site
        url: "$G/v1.0/sites/contoso.sharepoint.com:/sites/Sales"
        extract: {site_id: "\$.id"}
    url: "$G/v1.0/sites/{site_id}/lists/Cities/items?\$expand=fields&\$filter=fields/Country%20eq%20'{country}'"
    records: "\$.value[*]"
    pagination: {type: next_link, next: "\$['@odata.nextLink']"}
EOF
} >"$WORK/sources.yaml"

EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
SP_SECRET=$VALID_SECRET SP_EXPIRED_SECRET=$EXPIRED_SECRET SP_NOCONSENT_SECRET=$NOCONSENT_SECRET \
  SP_USERREAD_SECRET=$USERREAD_SECRET \
  "${EXTDATA[@]}" apply -f "$WORK/sources.yaml" >"$WORK/apply.out" 2>"$WORK/apply.err" || {
  cat "$WORK/apply.out" "$WORK/apply.err" >&2
  echo "apply of the test configuration failed" >&2
  echo "0 passed, 1 failed"
  exit 1
}

# ------------------------------------------------------------------ helpers
PASSED=0
FAILED=0
CHECK=""
PROBLEMS=()
begin() { # ID TITLE
  CHECK="$1 $2"
  PROBLEMS=()
  curl -sf -X DELETE "$G/_graphsim/faults" >/dev/null || PROBLEMS+=("could not clear faults")
  curl -sf -X POST "$G/_graphsim/counters/reset" >/dev/null || PROBLEMS+=("could not reset counters")
  rm -f "$WORK/counters.json"
}
end() {
  if ((${#PROBLEMS[@]} == 0)); then
    echo "PASS $CHECK"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $CHECK"
    for p in "${PROBLEMS[@]}"; do echo "     - $p"; done
    if [[ -s "$WORK/counters.json" ]]; then
      echo "     graphsim counters: $(jq -c '{token_requests: (.token_requests | del(.by_client)),
        graph: (.graph_requests | del(.by_target)), throttled, faults}' "$WORK/counters.json")"
    fi
    if [[ -n "${LAST:-}" ]]; then
      echo "     last command: exit ${RC:-?}; stderr (first 15 lines):"
      head -n 15 "$WORK/$LAST.err" | sed 's/^/       /'
    fi
    FAILED=$((FAILED + 1))
  fi
  LAST=""
}
fail() { PROBLEMS+=("$*"); }
expect_eq() { # DESCRIPTION ACTUAL EXPECTED
  [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
}
expect_ge() { # DESCRIPTION ACTUAL MINIMUM (integers)
  [[ "$2" =~ ^[0-9]+$ ]] && (($2 >= $3)) || fail "$1: got '$2', expected at least $3"
}
expect_contains() { # DESCRIPTION FILE TEXT
  grep -qF -- "$3" "$2" || fail "$1: '$3' not found in $(basename "$2")"
}
expect_not_contains() { # DESCRIPTION FILE TEXT
  ! grep -qF -- "$3" "$2" || fail "$1: '$3' found in $(basename "$2")"
}
set_faults() { # YAML
  local code
  code=$(curl -s -o "$WORK/faults.resp" -w '%{http_code}' -X PUT --data-binary "$1" "$G/_graphsim/faults")
  [[ "$code" == 200 ]] || fail "PUT /_graphsim/faults answered $code: $(cat "$WORK/faults.resp")"
}
# Runs the CLI, keeping stdout/stderr in $WORK/NAME.out|err (every one is scanned for secrets
# at the end) and the exit code in RC.
N_RUNS=0
run() { # extdata arguments...
  N_RUNS=$((N_RUNS + 1))
  LAST="run$N_RUNS"
  local start end
  start=$(date +%s%N)
  "${EXTDATA[@]}" "$@" >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
  RC=$?
  end=$(date +%s%N)
  ELAPSED_MS=$(((end - start) / 1000000))
  OUT="$WORK/$LAST.out"
  ERR="$WORK/$LAST.err"
}
out() { jq -r "$1" "$OUT" 2>/dev/null || echo "<stdout is not JSON>"; }
counters() { curl -sf "$G/_graphsim/counters" >"$WORK/counters.json" || fail "GET /_graphsim/counters failed"; }
c() { jq -r "($1) // 0" "$WORK/counters.json" 2>/dev/null || echo "<no counters>"; }
route() { c ".graph_requests.by_route[\"$1\"]"; }
status_count() { c ".graph_requests.by_status[\"$1\"]"; }
# Items requests per URL, as "count<TAB>target" lines (first page first: no skiptoken).
item_targets() {
  jq -r '.graph_requests.by_target | to_entries[] | select(.key | test("/items\\?")) |
         "\(.value)\t\(.key)"' "$WORK/counters.json" | LC_ALL=C sort -t$'\t' -k2
}
expect_each_items_target_once() { # NUMBER_OF_TARGETS
  local n bad
  n=$(item_targets | wc -l)
  expect_eq "distinct items URLs requested" "$n" "$1"
  bad=$(item_targets | awk -F'\t' '$1 != 1' | head -3)
  [[ -z "$bad" ]] || fail "an items page was requested more than once: $bad"
}
# A successful fetch of the 60 customers: a JSON array of 60 distinct items, in list order.
expect_all_customers() {
  expect_eq "exit code" "$RC" 0
  expect_eq "records printed" "$(out 'length')" "$FIXTURE_CUSTOMERS"
  expect_eq "distinct item ids" "$(out '[.[].id] | unique | length')" "$FIXTURE_CUSTOMERS"
  expect_eq "first record" "$(out '.[0].fields.Title')" "Nordlicht Logistik AG"
  expect_eq "last record id" "$(out '.[-1].id')" "$FIXTURE_CUSTOMERS"
}

# ------------------------------------------------------------------ 1. happy path
begin 1 "fetch over $PAGES pages: every record, every page once, one token"
run fetch customers --output json
expect_all_customers
counters
expect_eq "token requests" "$(c .token_requests.total)" 1
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
expect_eq "tokens issued to the app" "$(c ".token_requests.by_client[\"$VALID_CLIENT\"].issued")" 1
expect_eq "site resolved" "$(route site_by_path)" 1
expect_eq "list resolved" "$(route list)" 1
expect_eq "items pages requested" "$(route items)" "$PAGES"
expect_eq "Graph requests" "$(c .graph_requests.total)" $((2 + PAGES))
expect_eq "Graph 200s" "$(status_count 200)" $((2 + PAGES))
expect_each_items_target_once "$PAGES"
first=$(item_targets | head -1 | cut -f2)
[[ "$first" == *'$expand=fields'*'$top='"$PAGE_SIZE"* ]] ||
  fail "first items URL lacks \$expand=fields and \$top=$PAGE_SIZE: $first"
[[ "$first" == *'/sites/contoso.sharepoint.com%2C'* ]] ||
  fail "the site id is not percent-encoded in the items URL: $first"
expect_eq "items URLs with a skiptoken" "$(item_targets | grep -c 'skiptoken')" $((PAGES - 1))
end

# ------------------------------------------------------------------ 2. throttling
begin 2a "429 with a fractional Retry-After (1.128 s) is waited out"
# Eligible: every Graph request. #2 (list) and #4 (first items page) are throttled.
set_faults '{throttle: {every: 2, times: 2, status: 429, retry_after: "1.128"}}'
run fetch customers --output json
expect_all_customers
counters
expect_eq "throttled" "$(c .throttled.total)" 2
expect_eq "throttled with 429" "$(c '.throttled.by_status["429"]')" 2
expect_eq "Graph 429s" "$(status_count 429)" 2
expect_eq "Graph 200s (site, list, pages)" "$(status_count 200)" $((2 + PAGES))
expect_eq "Graph requests (2 retried)" "$(c .graph_requests.total)" $((2 + PAGES + 2))
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
expect_each_items_target_once "$PAGES"
# Honouring Retry-After twice takes at least 2 x 1128 ms; the backoff used without the header
# would wait 250-500 ms per retry.
expect_ge "elapsed ms (two Retry-After waits)" "$ELAPSED_MS" 2256
end

begin 2b "503 without Retry-After is retried with backoff"
set_faults '{throttle: {every: 3, times: 1, status: 503, retry_after: null}}'
run fetch customers --output json
expect_all_customers
counters
expect_eq "throttled with 503" "$(c '.throttled.by_status["503"]')" 1
expect_eq "throttled with 429" "$(c '.throttled.by_status["429"]')" 0
expect_eq "Graph 503s" "$(status_count 503)" 1
expect_eq "Graph 200s" "$(status_count 200)" $((2 + PAGES))
expect_eq "Graph requests (1 retried)" "$(c .graph_requests.total)" $((2 + PAGES + 1))
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
expect_each_items_target_once "$PAGES"
end

begin 2c "throttling that never stops is a clear error"
set_faults '{throttle: {every: 1, status: 429, retry_after: "0.05"}}'
run fetch customers --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.throttled"
expect_eq "upstream status" "$(out .error.upstream.http_status)" 429
counters
expect_eq "throttled (5 attempts of one request)" "$(c .throttled.total)" 5
expect_eq "Graph 200s" "$(status_count 200)" 0
end

# ------------------------------------------------------------------ 3. 401 mid-sync
begin 3 "token expired (401) mid-sync: one new token, no page fetched again"
# Eligible: Graph requests with an otherwise valid token: site (1), list (2), page 1 (3),
# page 2 (4). The token expires on page 2 and stays expired; the retry carries a new one.
set_faults '{expire_token: {every: 4, times: 1}}'
run fetch customers --output json
expect_all_customers
counters
expect_eq "token requests" "$(c .token_requests.total)" 2
expect_eq "tokens issued" "$(c .token_requests.issued)" 2
expect_eq "tokens expired by the fault" "$(c .faults.expired_tokens)" 1
expect_eq "Graph 401s" "$(status_count 401)" 1
expect_eq "Graph 200s (site, list, each page once)" "$(status_count 200)" $((2 + PAGES))
expect_eq "items requests answered" "$(route items)" "$PAGES"
expect_eq "requests refused before routing (the 401)" "$(route unknown)" 1
expect_eq "site resolved" "$(route site_by_path)" 1
expect_eq "list resolved" "$(route list)" 1
expect_eq "items URLs" "$(item_targets | wc -l)" "$PAGES"
expect_eq "requests per page, in order" "$(item_targets | cut -f1 | tr '\n' ' ')" "1 2 1 "
end

# ------------------------------------------------------------------ 4. broken bodies
begin 4a "connection dropped mid-body is retried"
# Eligible: successful Graph responses: site (1), list (2), first items page (3).
set_faults '{drop_connection: {every: 3, times: 1, after_bytes: 2000}}'
run fetch customers --output json
expect_all_customers
counters
expect_eq "dropped connections" "$(c .faults.dropped_connections)" 1
expect_eq "Graph 200s (page 1 twice)" "$(status_count 200)" $((2 + PAGES + 1))
expect_eq "items requests" "$(route items)" $((PAGES + 1))
expect_eq "requests per page, in order" "$(item_targets | cut -f1 | tr '\n' ' ')" "2 1 1 "
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
end

begin 4b "truncated JSON page is fetched again"
# Eligible: site (1), list (2), page 1 (3), page 2 (4): page 2 is cut to 3000 bytes.
set_faults '{truncate_body: {every: 4, times: 1, bytes: 3000}}'
run fetch customers --output json
expect_all_customers
counters
expect_eq "truncated bodies" "$(c .faults.truncated_bodies)" 1
expect_eq "items requests" "$(route items)" $((PAGES + 1))
expect_eq "requests per page, in order" "$(item_targets | cut -f1 | tr '\n' ' ')" "1 2 1 "
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
end

begin 4c "connection dropped every time is a clear error"
# after_bytes above the site and list answers' size: only items pages are cut.
set_faults '{drop_connection: {every: 1, after_bytes: 5000}}'
run fetch customers --output json
expect_eq "exit code" "$RC" 1
expect_eq "stdout is the error" "$(out .ok)" false
expect_eq "error code" "$(out .error.code)" "http.transfer"
expect_eq "failing step" "$(out .error.upstream.step)" "items"
[[ -n "$(out '.error.hint // empty')" ]] || fail "the error has no hint"
counters
expect_eq "items requests (5 attempts of page 1)" "$(route items)" 5
expect_eq "dropped connections (site, list, 5 x page 1)" "$(c .faults.dropped_connections)" 7
end

begin 4d "truncated JSON every time is a clear error after 3 attempts"
set_faults '{truncate_body: {every: 1, bytes: 5000}}'
run fetch customers --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.bad_page"
msg=$(out .error.message)
[[ "$msg" == *"page 1"* && "$msg" == *"3 attempts"* ]] || fail "message does not name page 1 and 3 attempts: $msg"
counters
expect_eq "items requests" "$(route items)" 3
expect_eq "items URLs" "$(item_targets | wc -l)" 1
end

# ------------------------------------------------------------------ 5. test, lists, columns
begin 5a "source test: steps, pages, records"
run --output json source test customers
expect_eq "exit code" "$RC" 0
expect_eq "ok" "$(out .ok)" true
expect_eq "pages" "$(out .pages)" "$PAGES"
expect_eq "records" "$(out .records)" "$FIXTURE_CUSTOMERS"
expect_eq "steps" "$(out '[.steps[].step] | join(",")')" "resolve site,resolve list,items,items,items"
expect_eq "step statuses" "$(out '[.steps[].status] | unique | join(",")')" 200
expect_eq "sample starts with" "$(out '.sample[0].fields.Title')" "Nordlicht Logistik AG"
counters
expect_eq "tokens issued" "$(c .token_requests.issued)" 1
expect_eq "items requests" "$(route items)" "$PAGES"
expect_each_items_target_once "$PAGES"
end

begin 5b "sharepoint lists shows the site's lists"
run sharepoint lists customers
expect_eq "exit code" "$RC" 0
expect_contains "text output" "$OUT" $'Customers\t5f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a005'
expect_contains "text output" "$OUT" $'Countries\t6a4d3c2b-0f9e-4d8c-b7a6-f5e4d3c2b006'
expect_contains "text output" "$OUT" $'Cities\t7b5e4d3c-1a0f-4e9d-88b7-a6f5e4d3c007'
expect_not_contains "system list left out" "$OUT" "User Information List"
run --output json sharepoint lists customers
expect_eq "exit code (json)" "$RC" 0
expect_eq "titles (json)" "$(out '[.[].title] | join(",")')" "Customers,Countries,Cities,Workflow Tasks"
expect_eq "Workflow Tasks is hidden" "$(out '.[] | select(.title == "Workflow Tasks") | .hidden')" true
counters
expect_eq "site resolved per run" "$(route site_by_path)" 2
expect_eq "lists requests" "$(route lists)" 2
expect_eq "items requests" "$(route items)" 0
expect_eq "tokens issued (one per process)" "$(c .token_requests.issued)" 2
end

begin 5c "sharepoint columns shows display and internal names"
run sharepoint columns customers
expect_eq "exit code" "$RC" 0
expect_contains "text output" "$OUT" $'Customer name\tTitle\ttext\tyes'
expect_contains "text output" "$OUT" $'Account Manager\tAccount_x0020_Manager\tpersonOrGroup\tno'
expect_contains "text output" "$OUT" $'Revenue\tRevenue\tcurrency\tno'
run --output json sharepoint columns customers
expect_eq "exit code (json)" "$RC" 0
expect_eq "Account Manager (json)" \
  "$(out '.[] | select(.display_name == "Account Manager") | "\(.name) \(.field_key) \(.template)"')" \
  "Account_x0020_Manager Account_x0020_ManagerLookupId {fields.Account_x0020_ManagerLookupId}"
expect_eq "fixture columns first" "$(out '[.[0:9][].name] | join(",")')" \
  "Title,Country,City,Industry,Revenue,Active,Account_x0020_Manager,AccountManagerName,CustomerSince"
counters
expect_eq "columns requests" "$(route columns)" 2
expect_eq "list resolved per run" "$(route list)" 2
expect_eq "items requests" "$(route items)" 0
end

# ------------------------------------------------------------------ 6. bad input
begin 6a "expired client secret (AADSTS7000222)"
run fetch expired_secret --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "auth.secret_expired"
expect_eq "AADSTS code" "$(out .error.upstream.aadsts)" 7000222
expect_eq "token endpoint status" "$(out .error.upstream.http_status)" 401
run fetch expired_secret
expect_eq "exit code (text)" "$RC" 1
expect_contains "text error" "$ERR" "error: the client secret has expired"
expect_contains "text error" "$ERR" "AADSTS7000222"
expect_contains "text hint" "$ERR" "hint: Create a new client secret"
counters
expect_eq "failed token requests" "$(c ".token_requests.by_client[\"$EXPIRED_CLIENT\"].errors[\"7000222\"]")" 2
expect_eq "tokens issued" "$(c .token_requests.issued)" 0
expect_eq "Graph requests without a token" "$(c .graph_requests.total)" 0
end

begin 6b "missing admin consent (Graph 403 AccessDenied)"
run fetch no_consent --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.consent_missing"
expect_eq "Graph code" "$(out .error.upstream.graph_code)" "AccessDenied"
expect_eq "Graph status" "$(out .error.upstream.http_status)" 403
[[ "$(out .error.hint)" == *"Grant admin consent"* ]] || fail "hint does not say to grant admin consent"
counters
expect_eq "token issued (without roles)" "$(c ".token_requests.by_client[\"$NOCONSENT_CLIENT\"].issued")" 1
expect_eq "Graph 403s" "$(status_count 403)" 1
expect_eq "items requests" "$(route items)" 0
end

begin 6c "permission other than Sites.* (Graph 403 accessDenied)"
run fetch wrong_permission --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.permission_missing"
[[ "$(out .error.message)" == *"User.Read.All"* ]] || fail "message does not list the token's roles: $(out .error.message)"
counters
expect_eq "Graph 403s" "$(status_count 403)" 1
expect_eq "items requests" "$(route items)" 0
end

begin 6d "unknown site (Graph 404)"
run fetch unknown_site --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.site_not_found"
expect_eq "Graph status" "$(out .error.upstream.http_status)" 404
[[ "$(out .error.message)" == *"https://contoso.sharepoint.com/sites/Marketing"* ]] ||
  fail "message does not name the site: $(out .error.message)"
counters
expect_eq "site requests" "$(route site_by_path)" 1
expect_eq "Graph 404s" "$(status_count 404)" 1
expect_eq "list requests" "$(route list)" 0
expect_eq "items requests" "$(route items)" 0
end

begin 6e "unknown list: did you mean the closest title"
run fetch unknown_list --output json
expect_eq "exit code" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.list_not_found"
expect_eq "suggestion" "$(out .error.upstream.suggestion)" "Customers"
[[ "$(out .error.message)" == *"did you mean 'Customers'?"* ]] ||
  fail "message has no suggestion: $(out .error.message)"
expect_eq "hint lists the visible lists" "$(out .error.hint)" "Lists on this site: Customers, Countries, Cities"
run fetch unknown_list
expect_contains "text error" "$ERR" "error: list 'Custmers' was not found on site 'https://contoso.sharepoint.com/sites/Sales'; did you mean 'Customers'?"
counters
expect_eq "list requests (404)" "$(route list)" 2
expect_eq "lists requests (for the suggestion)" "$(route lists)" 2
expect_eq "Graph 404s" "$(status_count 404)" 2
expect_eq "items requests" "$(route items)" 0
end

begin 6f "site that is not a SharePoint address is refused at apply and validate"
bad_site_config() { # NAME SITE: a source with Graph's default endpoint (no graphsim override)
  cat <<EOF
sources:
  - name: good
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: $VALID_CLIENT
    client_secret: \${env:SP_SECRET}
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
  - name: $1
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: $VALID_CLIENT
    client_secret: \${env:SP_SECRET}
    site: $2
    list: Customers
EOF
}
bad_site_config graph_url "https://graph.microsoft.com/v1.0/sites/contoso.sharepoint.com:/sites/Sales" >"$WORK/bad-graph-url.yaml"
bad_site_config plain_http "http://contoso.sharepoint.com/sites/Sales" >"$WORK/bad-http.yaml"
SP_SECRET=$VALID_SECRET run --output json apply -f "$WORK/bad-graph-url.yaml"
expect_eq "exit code (apply)" "$RC" 1
expect_eq "error code" "$(out .error.code)" "sharepoint.bad_site_url"
expect_eq "offending key" "$(out .error.upstream.key)" "site"
[[ "$(out .error.message)" == *"bad-graph-url.yaml: sources[1].site (line 14) of source 'graph_url': "*"is not a SharePoint Online host"*"(nothing was applied)"* ]] ||
  fail "message does not name the file, key path, line, source and problem: $(out .error.message)"
[[ "$(out .error.hint)" == *"Microsoft Graph URL"* ]] || fail "hint does not recognise the Graph URL: $(out .error.hint)"
SP_SECRET=$VALID_SECRET run --output json validate "$WORK/bad-graph-url.yaml"
expect_eq "exit code (validate)" "$RC" 1
expect_eq "error code (validate)" "$(out .error.code)" "sharepoint.bad_site_url"
expect_eq "offending key (validate)" "$(out .error.upstream.key)" "site"
SP_SECRET=$VALID_SECRET run apply -f "$WORK/bad-http.yaml"
expect_eq "exit code (http site)" "$RC" 1
expect_contains "text error" "$ERR" "sources[1].site (line 14) of source 'plain_http': site 'http://contoso.sharepoint.com/sites/Sales' does not start with https://"
expect_contains "text error" "$ERR" "key: site"
run --output json source list
expect_eq "nothing applied" "$(out '[.[].name] | map(select(. == "good" or . == "graph_url" or . == "plain_http")) | length')" 0
counters
expect_eq "no token request at apply" "$(c .token_requests.total)" 0
expect_eq "no Graph request at apply" "$(c .graph_requests.total)" 0
end

begin 6g "unset \${env:...} secret and missing required variable"
# SP_SECRET is not in the environment: the error names the key path and line.
run --output json apply -f "$WORK/bad-graph-url.yaml"
expect_eq "exit code (apply, env unset)" "$RC" 1
expect_eq "error code" "$(out .error.code)" "config.invalid"
[[ "$(out .error.message)" == *"sources[0].client_secret (line 6): environment variable SP_SECRET is not set"* ]] ||
  fail "message does not name the key path and the variable: $(out .error.message)"
run fetch cities --output json
expect_eq "exit code (variable missing)" "$RC" 1
expect_eq "error code" "$(out .error.code)" "source.variable_missing"
expect_eq "variable named" "$(out .error.upstream.variable)" "country"
run fetch cities
expect_contains "text error" "$ERR" "error: missing required variable 'country'"
expect_contains "text hint" "$ERR" "--var country=VALUE"
counters
expect_eq "no token request" "$(c .token_requests.total)" 0
expect_eq "no Graph request" "$(c .graph_requests.total)" 0
# And with the variable, the same source works (the error was about the variable only).
run fetch cities --var country=Germany --output json
expect_eq "exit code (with --var)" "$RC" 0
expect_eq "cities of Germany" "$(out '[.[].fields.Country] | unique | join(",")')" "Germany"
end

begin 6i "the CLI: lists as tables, source status, a missing store, typos, lists from a file"
run --output table source list
expect_eq "exit code (table)" "$RC" 0
expect_eq "table header" "$(head -1 "$OUT" | tr -s ' ')" "SOURCE TYPE READS"
expect_eq "a row per source, aligned with the header" \
  "$(grep '^customers ' "$OUT" | awk '{print $2}') $(head -1 "$OUT" | grep -bo TYPE | cut -d: -f1)" \
  "sharepoint-list $(grep '^customers ' "$OUT" | grep -bo sharepoint-list | cut -d: -f1)"
# `source test` and `fetch` are trials: the status is what serving fetched (tests/integration/
# demo.sh checks a fetched one).
run source status customers --output json
expect_eq "status of a source no server fetched yet" "$(out '[.[] | "\(.name) \(.state)"] | join(",")')" \
  "customers not fetched yet"
run source status nosuchsource
expect_eq "status of an unknown source → exit 1" "$RC" 1
"$EXTDATA_BIN" --data "$WORK/no-store-here" source list >"$WORK/nostore.txt" 2>&1
expect_eq "a --data without a store → exit 1" "$?" 1
expect_contains "  ... saying so and how to create one" "$WORK/nostore.txt" "extdata init"
expect_eq "  ... and nothing was created" "$([[ -e $WORK/no-store-here ]] && echo made || echo none)" none
"$EXTDATA_BIN" --data "$WORK/new-store" init >"$WORK/init.txt" 2>&1
expect_eq "init creates a store" "$?:$([[ -e $WORK/new-store/extdata.db ]] && echo db)" "0:db"
expect_contains "  ... and says to back up the key" "$WORK/init.txt" "master.key"
"$EXTDATA_BIN" --data "$WORK/new-store" source list >"$WORK/empty.txt" 2>&1
expect_eq "an empty store lists nothing, exit 0" "$?" 0
"$EXTDATA_BIN" --data "$WORK/data" source lsit >"$WORK/typo.txt" 2>&1
expect_eq "a mistyped command → exit 2" "$?" 2
expect_contains "  ... suggests the command" "$WORK/typo.txt" 'Did you mean `extdata source list`?'
run --output json auth customers
EXP=$(out .claims.exp)
run auth customers
grep -qE '^exp: 20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$OUT" || fail "auth does not show exp as a time"
expect_not_contains "  ... not as a number" "$OUT" "exp: $EXP"
# A source explored from its file before it is applied.
sed 's/name: customers$/name: unapplied/' "$WORK/sources.yaml" >"$WORK/unapplied.yaml"
SP_SECRET=$VALID_SECRET SP_EXPIRED_SECRET=$EXPIRED_SECRET SP_NOCONSENT_SECRET=$NOCONSENT_SECRET \
  SP_USERREAD_SECRET=$USERREAD_SECRET run sharepoint lists unapplied --file "$WORK/unapplied.yaml"
expect_eq "sharepoint lists --file: exit code" "$RC" 0
expect_contains "  ... lists the site's lists" "$OUT" $'Customers\t5f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a005'
run --output json source show unapplied
expect_eq "  ... and nothing was stored" "$(out .error.code)" "source.not_found"
end

begin 6h "no secret in any output or in the store"
for secret in "${SECRETS[@]}"; do
  hits=$(grep -lF -- "$secret" "$WORK"/run*.out "$WORK"/run*.err "$WORK"/apply.out "$WORK"/apply.err)
  [[ -z "$hits" ]] || fail "secret ${secret:0:6}… printed in: $(echo "$hits" | xargs -n1 basename | tr '\n' ' ')"
  ! grep -rlaF -- "$secret" "$WORK/data" >/dev/null ||
    fail "secret ${secret:0:6}… stored in plain text under the data directory"
done
# The scan itself works: it finds a secret where there is one.
printf 'x%sx\n' "$VALID_SECRET" >"$WORK/control.txt"
grep -qF -- "$VALID_SECRET" "$WORK/control.txt" || fail "the secret scan finds nothing even in a control file"
expect_ge "CLI outputs scanned" "$(ls "$WORK"/run*.out | wc -l)" 25
end

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
