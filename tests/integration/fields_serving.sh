#!/usr/bin/env bash
# Fields and serving, end to end over real processes: graphsim (Entra ID + Graph with the demo
# fixture) and `extdata serve` on 127.0.0.1 port 0, curl as the client, node for JSON.
#
# Checks what the API answers (labels, totals, freshness, errors, roles) and, through
# graphsim's /_graphsim/counters, what extdata sent upstream: one fetch per distinct context,
# none for a cached one, none for rejected requests. Then stale-if-error: graphsim is stopped,
# a forced refresh fails and the last good records are served stale with the error; extdata is
# restarted over the same data directory and answers from the persisted snapshots.
#
# Sections are numbered like the issue (1 options, 2 dependent fields, 3 value, 4 stale after
# the upstream stopped, 5 restart, 6 roles, 7 bad input); 6 and 7 run before 4 and 5 because
# they need graphsim up. No sleeps for timing: TTL expiry is covered by unit tests.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR

# The project's Node.js (scripts/node), never whatever node is on PATH.
node() { "$SRC/scripts/node" "$@"; }
for tool in curl "$SRC/scripts/node"; do
  command -v "$tool" >/dev/null && { [[ $tool != */node ]] || node --version >/dev/null; } || {
    echo "FAIL: $tool not found or not working; run scripts/install-deps" >&2
    echo "0 passed, 1 failed"
    exit 1
  }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-fields-serving.XXXXXX")
PIDS=()
GRAPHSIM_PID=""
SERVE_PID=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log "$WORK"/*.out; do
    [[ -s $f ]] && { echo "--- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }
  done
  echo "0 passed, 1 failed"
  exit 1
}
# shellcheck source=../support/processes.sh
source "$SRC/tests/support/processes.sh"

# ------------------------------------------------------------------ checks
n=0
passed=0
failed=0
pass() {
  n=$((n + 1)) passed=$((passed + 1))
  printf 'PASS %2d  %s\n' "$n" "$1"
}
fail() {
  n=$((n + 1)) failed=$((failed + 1))
  printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"
}
expect_eq() {  # description actual expected
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: $2 | want: $3"; fi
}
expect_match() {  # description actual extended-regex
  if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: $2 | want match: $3"; fi
}
expect_ne() {  # description actual unexpected
  if [[ $2 != "$3" ]]; then pass "$1"; else fail "$1" "got: $2 | want anything else"; fi
}
section() { printf '\n== %s\n' "$1"; }

# j FILE EXPR: evaluates the JavaScript expression EXPR with `j` bound to FILE's JSON; strings
# print raw, everything else as JSON ("undefined" when absent, "<not json>" when unparsable).
j() {
  node -e '
    const fs = require("fs");
    let j;
    try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
    catch (e) { process.stdout.write("<not json>"); process.exit(0); }
    let v;
    try { v = new Function("j", "return (" + process.argv[2] + ");")(j); }
    catch (e) { v = "<error: " + e.message + ">"; }
    process.stdout.write(v === undefined ? "undefined" : typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}

# http METHOD URL TOKEN [curl args...]: body → $BODY, status → $CODE ("" TOKEN = none).
BODY=$WORK/body.json
http() {
  local method=$1 url=$2 token=$3
  shift 3
  local auth=()
  [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
  CODE=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$url") || CODE=000
}
# Keeps the last answer under a name: save NAME → $WORK/NAME.json
save() { cp "$BODY" "$WORK/$1.json"; }

COUNTERS=$WORK/counters.json
graphsim_counters() { curl -sS "$GRAPHSIM_URL/_graphsim/counters" >"$COUNTERS"; }
graphsim_reset() { curl -sS -X POST "$GRAPHSIM_URL/_graphsim/counters/reset" >/dev/null; }

# ------------------------------------------------------------------ processes

stop_process() {  # pid: SIGTERM, wait for it; sets STOP_RC
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null
  STOP_RC=$?
}

start_serve() {  # log name
  : >"$WORK/$1.out"
  "${EXTDATA[@]}" serve --listen 127.0.0.1:0 >"$WORK/$1.out" 2>"$WORK/$1.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  EXTDATA_URL=$(listening_url "$WORK/$1.out" "$SERVE_PID")
  [[ -n $EXTDATA_URL ]] || die "extdata serve did not start"
  API=$EXTDATA_URL/api/v1
}

start_demo_graphsim
SITE_ID='contoso.sharepoint.com,6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c03,7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d04'

# The demo configuration: customers (sharepoint-list), countries, and cities (a rest source
# with the variable `country`) bound to the field city by `variables: {country: "{country}"}`.
sed "s#@GRAPHSIM@#$GRAPHSIM_URL#g" "$SRC/examples/demo.yaml.in" >"$WORK/demo.yaml"
grep -q 'variables: {country: "{country}"}' "$WORK/demo.yaml" ||
  die "examples/demo.yaml.in no longer binds city's variable country to the context"
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
DEMO_CLIENT_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2' \
  "${EXTDATA[@]}" apply -f "$WORK/demo.yaml" >"$WORK/apply.log" 2>&1 || die "extdata apply failed"
ADMIN_TOKEN=$("${EXTDATA[@]}" token create --role admin --label fields-serving 2>/dev/null) ||
  die "token create --role admin failed"
READER_TOKEN=$("${EXTDATA[@]}" token create --role reader --label fields-serving 2>/dev/null) ||
  die "token create --role reader failed"
[[ -n $ADMIN_TOKEN && -n $READER_TOKEN && $ADMIN_TOKEN != "$READER_TOKEN" ]] || die "empty tokens"

start_serve serve1  # without --anonymous-read: every read needs a token
R=$READER_TOKEN
A=$ADMIN_TOKEN
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
MULLER='Müller Präzisionstechnik GmbH (Stuttgart, Germany)'

# ================================================================== 1. options
section "1. options (GET /api/v1/fields/customer/options)"
graphsim_reset
http GET "$API/fields/customer/options?q=muller&limit=5" "$R"
save opt_muller
expect_eq "q=muller → 200" "$CODE" 200
expect_eq "q=muller → the accented title (ü folded to u), value = item id" \
  "$(j "$BODY" 'j.options.map(o => o.value + "=" + o.label).join(" | ")')" "2=$MULLER"
expect_eq "q=muller → total 1, stale false" "$(j "$BODY" '[j.total, j.stale]')" '[1,false]'
expect_match "fetched_at is an ISO timestamp" "$(j "$BODY" 'j.fetched_at')" "$ISO"
expect_eq "age_seconds is a small non-negative integer, no error attached" \
  "$(j "$BODY" '[Number.isInteger(j.age_seconds) && j.age_seconds >= 0 && j.age_seconds < 300, "error" in j]')" \
  '[true,false]'
expect_eq "data carries exactly the columns the field declares, nothing else of the record" \
  "$(j "$BODY" 'j.options[0].data')" \
  '{"account_manager":"Priya Raghunathan","city":"Stuttgart","country":"Germany"}'

http GET "$API/fields/customer/options?q=M%C3%9CLLER&limit=5" "$R"
expect_eq "q=MÜLLER (upper case) → the same option" "$(j "$BODY" '[j.total, j.options[0].value]')" '[1,"2"]'
http GET "$API/fields/customer/options?limit=5" "$R" -G --data-urlencode "q=cafe ole"
expect_eq "q='cafe ole' (no accents) → Café Olé SARL" \
  "$(j "$BODY" '[j.total, j.options.map(o => o.label)]')" '[1,["Café Olé SARL (Lyon, France)"]]'
http GET "$API/fields/customer/options?limit=5" "$R" -G --data-urlencode "q=ZURICH"
expect_eq "q=ZURICH matches the city Zürich (search template includes City)" \
  "$(j "$BODY" '[j.total, j.options.map(o => o.label)]')" '[1,["Zürcher Präzision AG (Zürich, Switzerland)"]]'
http GET "$API/fields/customer/options?q=gmbh&limit=2" "$R"
expect_eq "q=gmbh&limit=2 → 2 options of total 3" \
  "$(j "$BODY" '[j.options.length, j.total]')" '[2,3]'
http GET "$API/fields/customer/options?limit=5" "$R"
expect_eq "empty q, limit=5 → the first 5 of 60 in sort order (accent-insensitive)" \
  "$(j "$BODY" '[j.total, j.options.map(o => o.value)]')" '[60,["43","11","37","3","15"]]'
expect_eq "  ... labels" "$(j "$BODY" 'j.options.map(o => o.label.replace(/ \(.*/, "")).join(" | ")')" \
  "Adventure Works Cycles | Älvsborg Hälsa AB | Ankara Savunma Sanayi A.Ş. | Bäckerei Große Kette KG | Banque Léman SA"
http GET "$API/fields/customer/options?limit=5&offset=58" "$R"
expect_eq "offset=58 → the last 2 options, total still 60" "$(j "$BODY" '[j.options.length, j.total]')" '[2,60]'
http POST "$API/fields/customer/options" "$R" -H 'Content-Type: application/json' \
  -d '{"q": "Muller", "limit": 5}'
expect_eq "POST {q, limit} answers like GET" \
  "$(j "$BODY" '[j.total, j.options[0].label, j.stale]')" "[1,\"$MULLER\",false]"
graphsim_counters
expect_eq "upstream: one token, one site lookup, one list lookup, one delta page for 8 requests" \
  "$(j "$COUNTERS" '[j.token_requests.issued, j.graph_requests.by_route.site_by_path, j.graph_requests.by_route.list, j.graph_requests.by_route.delta, j.graph_requests.total]')" \
  '[1,1,1,1,3]'
expect_eq "upstream: the delta page (sync: delta, the default) asked for \$top=5000 with fields expanded" \
  "$(j "$COUNTERS" 'Object.keys(j.graph_requests.by_target).filter(t => /\/lists\/[^/]+\/items\/delta\?\$expand=fields&\$top=5000$/.test(t)).length')" 1
expect_eq "metrics: 1 miss, 1 refresh, 7 hits for customers" \
  "$(metric 'extdata_cache_misses_total{source="customers"}') $(metric 'extdata_cache_refreshes_total{source="customers"}') $(metric 'extdata_cache_hits_total{source="customers"}')" \
  "1 1 7"

# ================================================================== 2. dependent fields
section "2. dependent fields (city by ctx.country)"
graphsim_reset
target_count() {  # country → how often the Cities items URL filtered on it was requested
  j "$COUNTERS" "Object.entries(j.graph_requests.by_target).filter(([t]) => t.includes(\"/lists/Cities/items?\") && t.endsWith(\"eq%20'$1'\")).reduce((s, [, c]) => s + c, 0)"
}
http GET "$API/fields/city/options?ctx.country=Germany" "$R"
save city_de
expect_eq "ctx.country=Germany → 200, the German cities" \
  "$CODE $(j "$BODY" '[j.total, j.stale, j.options.map(o => o.value)]')" \
  '200 [5,false,["Berlin","Hamburg","Köln","München","Stuttgart"]]'
graphsim_counters
expect_eq "upstream: one items request filtered on Germany (+ the site step)" \
  "$(target_count Germany) $(j "$COUNTERS" '[j.graph_requests.by_route.items, j.graph_requests.by_route.site_by_path]')" \
  '1 [1,1]'
http GET "$API/fields/city/options?ctx.country=France" "$R"
save city_fr
expect_eq "ctx.country=France → the French cities" \
  "$(j "$BODY" '[j.total, j.options.map(o => o.value)]')" '[4,["Lyon","Nice","Paris","Rennes"]]'
expect_eq "the two contexts share no option" \
  "$(node -e 'const a = require(process.argv[1]).options.map(o => o.value);
              const b = require(process.argv[2]).options.map(o => o.value);
              console.log(a.filter(x => b.includes(x)).length)' "$WORK/city_de.json" "$WORK/city_fr.json")" 0
graphsim_counters
expect_eq "upstream: a second, separate fetch for France; Germany still fetched once" \
  "$(target_count France) $(target_count Germany) $(j "$COUNTERS" 'j.graph_requests.by_route.items')" '1 1 2'
total_before=$(j "$COUNTERS" '[j.graph_requests.total, j.token_requests.total]')

http GET "$API/fields/city/options?ctx.country=Germany" "$R"
expect_eq "repeated ctx.country=Germany → the same options" \
  "$(j "$BODY" 'j.options.map(o => o.value)')" "$(j "$WORK/city_de.json" 'j.options.map(o => o.value)')"
http GET "$API/fields/city/options?ctx.country=France&q=par" "$R"
expect_eq "ctx.country=France&q=par → Paris only" "$(j "$BODY" '[j.total, j.options[0].label]')" '[1,"Paris"]'
http POST "$API/fields/city/options" "$R" -d '{"q": "k", "context": {"country": "Germany"}}'
expect_eq "POST with context {country: Germany}, q=k → Köln" \
  "$(j "$BODY" '[j.total, j.options[0].value]')" '[1,"Köln"]'
graphsim_counters
expect_eq "upstream: no new request (graph, token) for contexts already cached" \
  "$(j "$COUNTERS" '[j.graph_requests.total, j.token_requests.total]')" "$total_before"
# The site step runs on every fetch of the rest source; the items pages must not repeat.
expect_eq "upstream: no items page requested twice" \
  "$(j "$COUNTERS" 'Object.entries(j.graph_requests.by_target).filter(([t, c]) => t.includes("/items?") && c !== 1).length')" 0
expect_eq "metrics: cities 2 misses, 2 refreshes, 3 hits" \
  "$(metric 'extdata_cache_misses_total{source="cities"}') $(metric 'extdata_cache_refreshes_total{source="cities"}') $(metric 'extdata_cache_hits_total{source="cities"}')" \
  "2 2 3"

# ================================================================== 3. value
section "3. value (GET /api/v1/fields/{name}/value)"
http GET "$API/fields/customer/value?key=2" "$R"
expect_eq "customer key=2 → found, its current label" \
  "$CODE $(j "$BODY" '[j.found, j.value, j.label, j.data.city, j.data.Revenue, j.stale]')" \
  '200 [true,"2","Müller Präzisionstechnik GmbH (Stuttgart, Germany)","Stuttgart",null,false]'
http GET "$API/fields/city/value?ctx.country=Germany" "$R" -G --data-urlencode "key=Köln"
expect_eq "city key=Köln with ctx.country=Germany → found" \
  "$(j "$BODY" '[j.found, j.label]')" '[true,"Köln"]'
http GET "$API/fields/city/value?key=Paris&ctx.country=Germany" "$R"
expect_eq "city key=Paris with ctx.country=Germany → not found in that context" \
  "$(j "$BODY" '[j.found, j.label]')" '[false,null]'
http GET "$API/fields/customer/value?key=9999" "$R"
expect_eq "unknown key → 200, found false, says it no longer exists" \
  "$CODE $(j "$BODY" '[j.found, j.value, j.label, j.data, j.message]')" \
  '200 [false,"9999",null,null,"the key no longer exists upstream"]'

# Change the list upstream: rename item 2, delete item 3; a forced refresh picks it up.
curl -sS -X POST "$GRAPHSIM_URL/_graphsim/sites/$SITE_ID/lists/Customers/items" \
  -d '{"id": 2, "fields": {"Title": "Müller Präzision Neu GmbH"}}' >/dev/null
curl -sS -X DELETE "$GRAPHSIM_URL/_graphsim/sites/$SITE_ID/lists/Customers/items/3" >/dev/null
graphsim_reset
http POST "$API/sources/customers/refresh" "$A"
expect_eq "admin POST /sources/customers/refresh → ok, 1 key, 59 records" \
  "$CODE $(j "$BODY" '[j.ok, j.keys, j.records, j.errors]')" '200 [true,1,59,[]]'
graphsim_counters
expect_eq "upstream: the refresh was one delta request (the changes only), with the cached token" \
  "$(j "$COUNTERS" '[j.graph_requests.by_route.delta, j.graph_requests.by_route.items || 0, j.graph_requests.total, j.token_requests.total]')" '[1,0,1,0]'
http GET "$API/fields/customer/value?key=2" "$R"
save value_after_rename
expect_eq "key=2 after the rename → the new label" \
  "$(j "$BODY" '[j.found, j.label]')" '[true,"Müller Präzision Neu GmbH (Stuttgart, Germany)"]'
http GET "$API/fields/customer/value?key=3" "$R"
expect_eq "key=3 after its deletion upstream → found false, no longer exists" \
  "$(j "$BODY" '[j.found, j.label, j.message]')" '[false,null,"the key no longer exists upstream"]'
http GET "$API/fields/customer/options?limit=1" "$R"
expect_eq "options total follows the upstream (59)" "$(j "$BODY" 'j.total')" 59
http GET "$API/fields/customer/options?limit=10" "$R" -G --data-urlencode "q=präzision neu"
expect_eq "q='präzision neu' after the rename → finds key 2" \
  "$(j "$BODY" 'j.options.some(o => o.value === "2")')" true
expect_eq "metrics: the customer table was patched with the delta's changes, not built again" \
  "$(metric 'extdata_fields_tables_patched_total{field="customer"}') $(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_fields_tables_rebuilt_total/ { n++ } END { print n + 0 }')" \
  "1 0"

# ================================================================== 6. roles
section "6. roles (serve without --anonymous-read)"
graphsim_reset
http GET "$API/fields/customer/options?q=muller" ""
expect_eq "no token → 401 on options" "$CODE $(j "$BODY" 'j.error.code')" '401 api.unauthenticated'
expect_match "  ... the hint says how to get a token" "$(j "$BODY" 'j.error.hint')" 'extdata token create --role reader'
http GET "$API/fields/customer/value?key=2" ""
expect_eq "no token → 401 on value" "$CODE" 401
http GET "$API/fields/customer/options?q=muller" "edt_000000000000_not-a-real-token"
expect_eq "invalid token → 401, says it is not valid" \
  "$CODE $(j "$BODY" 'j.error.code') $(j "$BODY" '/not valid/.test(j.error.message)')" \
  '401 api.unauthenticated true'
http GET "$API/fields/customer/options?q=muller" "" -H "Authorization: Basic $(printf 'a:b' | base64)"
expect_eq "non-Bearer Authorization → 401" "$CODE" 401
http GET "$API/fields/customer/options?q=muller" "$R"
expect_eq "reader token → 200 on options" "$CODE $(j "$BODY" 'j.total')" '200 1'
http GET "$API/fields/city/value?key=Berlin&ctx.country=Germany" "$R"
expect_eq "reader token → 200 on value" "$CODE $(j "$BODY" 'j.found')" '200 true'
http GET "$API/sources" "$R"
expect_eq "reader token → 403 on GET /sources" "$CODE $(j "$BODY" 'j.error.code')" '403 api.forbidden'
http DELETE "$API/sources/customers" "$R"
expect_eq "reader token → 403 on DELETE /sources/customers" "$CODE $(j "$BODY" 'j.error.code')" '403 api.forbidden'
http POST "$API/sources/customers/refresh" "$R"
expect_eq "reader token → 403 on POST /sources/customers/refresh" "$CODE" 403
http PUT "$API/fields/customer" "$R" -d '{"source": "customers"}'
expect_eq "reader token → 403 on PUT /fields/customer" "$CODE" 403
http GET "$API/sources" ""
expect_eq "no token → 401 on an admin endpoint" "$CODE" 401
graphsim_counters
expect_eq "upstream: the refused refresh sent nothing" "$(j "$COUNTERS" 'j.graph_requests.total')" 0
http GET "$API/sources/customers" "$A"
expect_eq "admin token → 200 GET /sources/customers; the reader's DELETE changed nothing" \
  "$CODE $(j "$BODY" '[j.name, j.client_secret]')" '200 ["customers",{"set":true}]'
http GET "$API/sources" "$A"
expect_eq "admin token → 200 GET /sources (3 sources)" "$CODE $(j "$BODY" 'j.sources.length')" '200 3'
http GET "$API/fields" "$A"
expect_eq "admin token → 200 GET /fields (4 fields)" \
  "$CODE $(j "$BODY" 'j.fields.map(f => f.name).sort()')" '200 ["account_manager","city","country","customer"]'
http GET "$API/fields/customer/options?q=muller" "$A"
expect_eq "admin token → 200 on options" "$CODE" 200
http GET "$EXTDATA_URL/healthz" ""
expect_eq "/healthz needs no token" "$CODE $(j "$BODY" 'j.status')" '200 ok'

# ================================================================== 7. bad input
section "7. bad input"
graphsim_reset
http GET "$API/fields/custmer/options?q=a" "$R"
expect_eq "unknown field → 404 field.not_found" "$CODE $(j "$BODY" 'j.error.code')" '404 field.not_found'
expect_eq "  ... names the field and suggests the closest one" \
  "$(j "$BODY" '[j.error.message, j.error.hint]')" "[\"no field named 'custmer'\",\"Did you mean 'customer'?\"]"
http GET "$API/fields/nope/value?key=1" "$R"
expect_eq "unknown field on value → 404" "$CODE $(j "$BODY" 'j.error.code')" '404 field.not_found'
for limit in 0 1001 -5; do
  http GET "$API/fields/customer/options?q=a&limit=$limit" "$R"
  expect_eq "limit=$limit → 400 field.bad_limit, says 1..1000" \
    "$CODE $(j "$BODY" 'j.error.code') $(j "$BODY" '/1\.\.1000/.test(j.error.message)')" \
    '400 field.bad_limit true'
done
http GET "$API/fields/customer/options?limit=abc" "$R"
expect_eq "limit=abc → 400 field.bad_limit" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_limit'
http POST "$API/fields/customer/options" "$R" -d '{"limit": 5000}'
expect_eq "POST limit 5000 → 400 field.bad_limit" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_limit'
http GET "$API/fields/customer/options?limit=1000" "$R"
expect_eq "limit=1000 (the maximum) → 200, all 59" "$CODE $(j "$BODY" 'j.options.length')" '200 59'
http GET "$API/fields/customer/options?offset=-1" "$R"
expect_eq "offset=-1 → 400 field.bad_offset" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_offset'
http GET "$API/fields/customer/options?q=$(printf 'a%.0s' $(seq 1025))" "$R"
expect_eq "q of 1025 bytes → 400 field.bad_query" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_query'
http GET "$API/fields/city/options" "$R"
expect_eq "city without ctx.country → 400 field.bad_context" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_context'
expect_eq "  ... the message names the missing key, the hint how to pass it" \
  "$(j "$BODY" '[/context value .country./.test(j.error.message), j.error.hint]')" \
  '[true,"Pass ctx.country=VALUE (the value of the field it depends on)"]'
http GET "$API/fields/city/options?ctx.%7Bcountry%7D=Germany" "$R"
expect_eq "ctx key with braces → 400 field.bad_context" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_context'
http GET "$API/fields/city/options?ctx.coun%01try=Germany" "$R"
expect_eq "ctx key with a control character → 400 field.bad_context" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_context'
http GET "$API/fields/city/options?ctx.country=%FF%FE" "$R"
expect_eq "ctx value not UTF-8 → 400 field.bad_context" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_context'
http GET "$API/fields/city/options?ctx.country=$(printf 'x%.0s' $(seq 257))" "$R"
expect_eq "ctx value over 256 bytes → 400 field.context_too_long naming the limit" \
  "$CODE $(j "$BODY" '[j.error.code, /context_max_length/.test(j.error.message)]')" '400 ["field.context_too_long",true]'
http GET "$API/fields/city/options?ctx.country=Germany&ctx.evil=1" "$R"
expect_eq "ctx key the field does not declare → 400 field.undeclared_context naming it" \
  "$CODE $(j "$BODY" '[j.error.code, /'"'"'evil'"'"'/.test(j.error.message)]')" '400 ["field.undeclared_context",true]'
http POST "$API/fields/city/options" "$R" -d '{"context": ["Germany"]}'
expect_eq "POST context that is not an object → 400 field.bad_context" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_context'
http POST "$API/fields/city/options" "$R" -d '{"context": {"country": {"name": "Germany"}}}'
expect_eq "POST context value that is an object → 400, names the key" \
  "$CODE $(j "$BODY" '[j.error.code, /context\.country/.test(j.error.message)]')" '400 ["field.bad_context",true]'
http POST "$API/fields/city/options" "$R" -d '{"context": '
expect_eq "POST body that is not JSON → 400 api.bad_json" "$CODE $(j "$BODY" 'j.error.code')" '400 api.bad_json'
http GET "$API/fields/customer/value" "$R"
expect_eq "value without key → 400 field.bad_key" "$CODE $(j "$BODY" 'j.error.code')" '400 field.bad_key'
http DELETE "$API/fields/customer/options" "$R"
expect_eq "DELETE on options → 405" "$CODE" 405
graphsim_counters
expect_eq "upstream: no bad request reached graphsim" \
  "$(j "$COUNTERS" '[j.graph_requests.total, j.token_requests.total]')" '[0,0]'

# ================================================================== 4. stale-if-error
section "4. stale-if-error: graphsim stopped"
http GET "$API/fields/customer/options?q=muller" "$R"
save warm_customer
FETCHED_CUSTOMER=$(j "$BODY" 'j.fetched_at')
FETCHED_CITY_DE=$(j "$WORK/city_de.json" 'j.fetched_at')
expect_eq "warm: customer options fresh before the outage" "$(j "$BODY" '[j.stale, j.total]')" '[false,1]'
stop_process "$GRAPHSIM_PID"
expect_eq "graphsim stopped (its port refuses connections)" \
  "$(curl -s -o /dev/null -w '%{http_code}' "$GRAPHSIM_URL/_graphsim/health")" 000

http POST "$API/sources/customers/refresh" "$A"
save refresh_down
expect_eq "admin refresh → 200 with ok false, 1 key, 0 records" \
  "$CODE $(j "$BODY" '[j.ok, j.keys, j.records, j.errors.length]')" '200 [false,1,0,1]'
expect_eq "  ... the error is the connection failure, with a hint" \
  "$(j "$BODY" '[j.errors[0].code, /could not connect/.test(j.errors[0].message), /server is up/.test(j.errors[0].hint)]')" \
  '["http.connect",true,true]'
http GET "$API/fields/customer/options?q=muller" "$R"
save stale_customer
expect_eq "options still served: 200, the last good records" \
  "$CODE $(j "$BODY" '[j.total, j.options[0].label]')" '200 [1,"Müller Präzision Neu GmbH (Stuttgart, Germany)"]'
expect_eq "  ... with stale true" "$(j "$BODY" 'j.stale')" true
expect_eq "  ... fetched_at of the last good fetch, age_seconds a non-negative integer" \
  "$(j "$BODY" '[j.fetched_at, Number.isInteger(j.age_seconds) && j.age_seconds >= 0]')" \
  "[\"$FETCHED_CUSTOMER\",true]"
expect_eq "  ... and the refresh error attached" \
  "$(j "$BODY" '[j.error.code, /could not connect/.test(j.error.message)]')" '["http.connect",true]'
http GET "$API/fields/customer/value?key=2" "$R"
expect_eq "value served stale with the error too" \
  "$CODE $(j "$BODY" '[j.found, j.label, j.stale, j.error.code]')" \
  '200 [true,"Müller Präzision Neu GmbH (Stuttgart, Germany)",true,"http.connect"]'
http GET "$API/fields/city/options?ctx.country=Germany" "$R"
expect_eq "city/Germany (another source, not refreshed, within its TTL) stays fresh" \
  "$(j "$BODY" '[j.stale, j.total, j.fetched_at, "error" in j]')" "[false,5,\"$FETCHED_CITY_DE\",false]"
http GET "$API/sources/customers" "$A"
expect_eq "source status: last error recorded, record count of the last good fetch kept" \
  "$(j "$BODY" '[/could not connect/.test(j.status.last_error.message), j.status.records, j.status.last_success_at <= j.status.last_fetch_at]')" \
  '[true,59,true]'
expect_ne "metrics: stale answers counted for customers" "$(metric 'extdata_cache_stale_served_total{source="customers"}')" 0

# ================================================================== 5. restart
section "5. restart extdata over the same --data, graphsim still down"
stop_process "$SERVE_PID"
expect_eq "extdata serve exits 0 on SIGTERM" "$STOP_RC" 0
start_serve serve2
http GET "$API/fields/customer/options?q=muller" "$R"
expect_eq "tokens survive the restart; options → 200 from the snapshot" \
  "$CODE $(j "$BODY" '[j.total, j.options[0].value, j.options[0].label]')" \
  '200 [1,"2","Müller Präzision Neu GmbH (Stuttgart, Germany)"]'
# docs/fields.md, Snapshots: loaded on first use without asking the upstream, fresh while
# younger than the TTL (customers: 5m). The failed refresh before the restart lived in memory.
expect_eq "  ... fresh snapshot: stale false, the original fetched_at, no error" \
  "$(j "$BODY" '[j.stale, j.fetched_at, "error" in j]')" "[false,\"$FETCHED_CUSTOMER\",false]"
# record_cache.cpp: a loaded snapshot is answered like a hit; no fetch is counted.
expect_eq "  ... no upstream fetch attempted (0 refreshes; the snapshot load counts as a hit)" \
  "$(metric 'extdata_cache_refreshes_total{source="customers"}') $(metric 'extdata_cache_hits_total{source="customers"}')" \
  "0 1"
http GET "$API/fields/city/options?ctx.country=Germany" "$R"
expect_eq "city/Germany from its own snapshot" \
  "$(j "$BODY" '[j.stale, j.fetched_at, j.options.map(o => o.value)]')" \
  "[false,\"$FETCHED_CITY_DE\",[\"Berlin\",\"Hamburg\",\"Köln\",\"München\",\"Stuttgart\"]]"
http GET "$API/fields/city/options?ctx.country=France" "$R"
expect_eq "city/France from its own snapshot" "$(j "$BODY" '[j.total, j.options[0].value]')" '[4,"Lyon"]'
http GET "$API/fields/customer/value?key=3" "$R"
expect_eq "value from the snapshot: the deleted key stays gone" "$(j "$BODY" '[j.found, j.stale]')" '[false,false]'

# Tokens are kept sealed in the store (the shared token cache, docs/scaling.md): after the
# restart the server uses the token it had, so the first upstream call is Graph's, and the
# error is Graph's http.connect (not Entra's auth.token_endpoint_unreachable).
http POST "$API/sources/customers/refresh" "$A"
expect_eq "admin refresh after the restart → ok false, Graph is unreachable (the stored token was used)" \
  "$CODE $(j "$BODY" '[j.ok, j.keys, j.errors[0].code]')" \
  '200 [false,1,"http.connect"]'
http GET "$API/fields/customer/options?q=muller" "$R"
expect_eq "snapshot records served stale-if-error: stale true, same fetched_at, error attached" \
  "$CODE $(j "$BODY" '[j.total, j.options[0].value, j.stale, j.fetched_at, j.error.code]')" \
  "200 [1,\"2\",true,\"$FETCHED_CUSTOMER\",\"http.connect\"]"
http GET "$API/fields/city/options?ctx.country=Spain" "$R"
expect_eq "a context never fetched (Spain) → 502 with the source's error, nothing to serve" \
  "$CODE $(j "$BODY" '[j.error.code]')" \
  '502 ["http.connect"]'
expect_eq "  ... the error message is redacted of secrets" \
  "$(grep -c 'graphsimDemoSecret' "$BODY")" 0

# ------------------------------------------------------------------ summary
echo
echo "$passed passed, $failed failed"
if ((failed > 0)); then
  for log in serve1 serve2; do
    [[ -s $WORK/$log.log ]] && { echo "--- $log.log (last 30 lines)" >&2; tail -n 30 "$WORK/$log.log" >&2; }
  done
  exit 1
fi
exit 0
