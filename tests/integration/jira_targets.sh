#!/usr/bin/env bash
# Targets (issue 20, part 2): a field's options pushed into a Jira select field's context,
# end to end — `extdata target sync` and `extdata serve` against the Jira double
# (tests/node/jira-double.mjs), a REST upstream serving a JSON file the test edits. Checks what
# extdata sent (the double's counters of requests by method and answers by status) as well as
# what Jira holds afterwards (/_jira/options):
#   1 first sync of 2,500 options: 3 POST batches (≤ 1,000), a dry run before writes nothing
#   2 a second sync changes nothing (zero writes)
#   3 a rename is one PUT of the same option id; a removal disables; a return re-enables
#   4 429 mid-sync: the POST is retried after Retry-After and the sync completes
#   5 a value over 255 characters and a case-insensitive duplicate are reported per option,
#     the rest is created
#   6 401, 403, 404 (listing the field's contexts) explained with a hint
#   7 the API: POST /api/v1/targets/{name}/sync (admin only), the sources page's last sync,
#     the sync after a refresh of the field's source, and a sync whose source cannot be read
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
node() { "$SRC/scripts/node" "$@"; }
node --version >/dev/null 2>&1 || { echo "FAIL: scripts/node does not run; run scripts/install-deps"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-jira-targets.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$SRC/tests/support/checks.sh"

wait_port() {  # file pid what
  for _ in $(seq 600); do [[ -s $1 ]] && return 0; kill -0 "$2" 2>/dev/null || break; sleep 0.05; done
  die "$3 did not start"
}

# ------------------------------------------------------------------ processes
"$SRC/scripts/node" "$SRC/tests/node/jira-double.mjs" --port-file "$WORK/jira.port" 2>"$WORK/jira.log" &
PIDS+=($!)
wait_port "$WORK/jira.port" $! "the Jira double"
JIRA="http://127.0.0.1:$(cat "$WORK/jira.port")"

# The upstream: serves customers.json as it is on disk at each request.
CUSTOMERS=$WORK/customers.json
# (scripts/node itself, not the function: $! must be the server's pid to stop it)
"$SRC/scripts/node" -e '
  const http = require("http"), fs = require("fs");
  const s = http.createServer((q, r) => { r.setHeader("Content-Type", "application/json"); r.end(fs.readFileSync(process.argv[1])); });
  s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[2], String(s.address().port)));
' "$CUSTOMERS" "$WORK/upstream.port" 2>"$WORK/upstream.log" &
PIDS+=($!)
wait_port "$WORK/upstream.port" $! "the upstream"
UPSTREAM="http://127.0.0.1:$(cat "$WORK/upstream.port")"

# customers FROM TO [EDIT-EXPR]: ids FROM..TO named "Customer NNNN", then EDIT-EXPR over `items`.
customers() {
  node -e '
    const [from, to, edit] = [+process.argv[1], +process.argv[2], process.argv[3] || ""];
    let items = [];
    for (let i = from; i <= to; i++) items.push({ id: i, name: "Customer " + String(i).padStart(4, "0") });
    new Function("items", edit)(items);
    require("fs").writeFileSync(process.argv[4], JSON.stringify({ items }));
  ' "$1" "$2" "${3:-}" "$CUSTOMERS"
}

cat >"$WORK/config.yaml" <<YAML
sources:
  - name: crm
    type: rest
    url: $UPSTREAM/customers
    records: "\$.items[*]"
fields:
  - name: customer
    source: crm
    value: "{id}"
    label: "{name}"
targets:
  - name: jira-customer
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: basic, username: admin@contoso.com, password: "\${env:JIRA_API_TOKEN}"}
    field_id: customfield_10042
    on_removed: disable
  - name: jira-wrong-token
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: basic, username: admin@contoso.com, password: expired-token}
    field_id: customfield_10042
  - name: jira-not-admin
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: bearer, token: jira-reader-token}
    field_id: customfield_10042
  - name: jira-wrong-context
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: bearer, token: jira-pat}
    field_id: customfield_10042
    context_id: "99999"
  - name: jira-wrong-field
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: bearer, token: jira-pat}
    field_id: customfield_10099
YAML
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
customers 1 2500
JIRA_API_TOKEN=jira-api-token "${EXTDATA[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 ||
  die "apply failed: $(cat "$WORK/apply.log")"

OUT=$WORK/out.json
COUNTERS=$WORK/counters.json
OPTIONS=$WORK/options.json
sync() {  # sync NAME [flags...]: the JSON report → $OUT, exit code → $RC
  local name=$1
  shift
  "${EXTDATA[@]}" --output json target sync "$name" "$@" >"$OUT" 2>"$WORK/sync.log"
  RC=$?
}
reset() { curl -sS -X POST "$JIRA/_jira/counters/reset" >/dev/null; }
counted() { curl -sS "$JIRA/_jira/counters" >"$COUNTERS"; }
writes() { counted; j "$COUNTERS" '[j.requests.POST, j.requests.PUT, j.requests.DELETE]'; }
jira_options() { curl -sS "$JIRA/_jira/options?context=10142" >"$OPTIONS"; }
COUNTS='[j.counts.created, j.counts.updated, j.counts.disabled, j.counts.deleted, j.counts.enabled, j.counts.unchanged]'

# ================================================================== 1
section "1. first sync of 2,500 options"
reset
sync jira-customer --dry-run
expect_eq "--dry-run: would create 2500, ok, exit 0" "$RC $(j "$OUT" "[j.ok, j.dry_run, $COUNTS]")" \
  "0 [true,true,[2500,0,0,0,0,0]]"
expect_eq "  ... nothing written to Jira" "$(writes)" "[0,0,0]"
reset
sync jira-customer
expect_eq "sync: created 2500 in the global context 10142" \
  "$RC $(j "$OUT" "[j.ok, j.context_id, $COUNTS]")" '0 [true,"10142",[2500,0,0,0,0,0]]'
expect_eq "  ... 3 POST batches (1000 + 1000 + 500), no PUT or DELETE" "$(writes)" "[3,0,0]"
expect_eq "  ... reads: 1 page of contexts + 1 (empty) page of options" "$(j "$COUNTERS" 'j.requests.GET')" 2
jira_options
expect_eq "Jira holds 2500 enabled options, labelled as the field" \
  "$(j "$OPTIONS" '[j.length, j.filter(o => !o.disabled).length, j[0].value, j[2499].value]')" \
  '[2500,2500,"Customer 0001","Customer 2500"]'
ID7=$(j "$OPTIONS" 'j.find(o => o.value === "Customer 0007").id')
ID9=$(j "$OPTIONS" 'j.find(o => o.value === "Customer 0009").id')

# ================================================================== 2
section "2. a second sync right after changes nothing"
reset
sync jira-customer
expect_eq "counts: 2500 unchanged" "$RC $(j "$OUT" "$COUNTS")" "0 [0,0,0,0,0,2500]"
expect_eq "  ... zero writes" "$(writes)" "[0,0,0]"
expect_eq "  ... reads: contexts + 25 pages of 100 options" "$(j "$COUNTERS" 'j.requests.GET')" 26

# ================================================================== 3
section "3. a rename, a removal, a return"
customers 1 2500 'items[6].name = "Customer 0007 (renamed)"; items.splice(8, 1);'
reset
sync jira-customer
expect_eq "renamed 1 (updated), removed 1 (disabled), 2498 unchanged" \
  "$RC $(j "$OUT" "$COUNTS")" "0 [0,1,1,0,0,2498]"
expect_eq "  ... one PUT batch, nothing created or deleted" "$(writes)" "[0,1,0]"
jira_options
expect_eq "  ... the renamed option keeps its id (issues keep their value)" \
  "$(j "$OPTIONS" "j.find(o => o.id === '$ID7').value")" "Customer 0007 (renamed)"
expect_eq "  ... the removed option is disabled, not deleted" \
  "$(j "$OPTIONS" "[j.length, j.find(o => o.id === '$ID9').disabled]")" "[2500,true]"
customers 1 2500 'items[6].name = "Customer 0007 (renamed)";'
reset
sync jira-customer
expect_eq "the removed customer returns: re-enabled (same id), nothing else" \
  "$RC $(j "$OUT" "$COUNTS") $(writes)" "0 [0,0,0,0,1,2499] [0,1,0]"
jira_options
expect_eq "  ... enabled again under its id" "$(j "$OPTIONS" "j.find(o => o.id === '$ID9').disabled")" false
reset
sync jira-customer
expect_eq "and the next sync writes nothing" "$(j "$OUT" "$COUNTS") $(writes)" "[0,0,0,0,0,2500] [0,0,0]"

# ================================================================== 4
section "4. 429 in the middle of a sync"
customers 1 4000 'items[6].name = "Customer 0007 (renamed)";'
reset
curl -sS -X POST "$JIRA/_jira/fail" -H 'Content-Type: application/json' \
  -d '{"status":429,"retry_after":"1","method":"POST","after":1,"times":1}' >/dev/null
sync jira-customer
counted
expect_eq "1500 new options: the second POST is throttled once, retried after Retry-After, the sync completes" \
  "$RC $(j "$OUT" "[j.ok, $COUNTS]") $(j "$COUNTERS" '[j.requests.POST, j.status["429"]]')" \
  "0 [true,[1500,0,0,0,0,2500]] [3,1]"
jira_options
expect_eq "  ... Jira holds all 4000, none twice" \
  "$(j "$OPTIONS" '[j.length, new Set(j.map(o => o.value.toLowerCase())).size]')" "[4000,4000]"

# ================================================================== 5
section "5. options Jira would refuse are reported per option, the rest goes through"
customers 1 4000 'items[6].name = "Customer 0007 (renamed)";
  items.push({ id: 5001, name: "X".repeat(300) }, { id: 5002, name: "CUSTOMER 0001" }, { id: 5003, name: "Fine New Customer" });'
reset
sync jira-customer
expect_eq "1 created, 2 refused (exit 1: look at the refused options)" \
  "$RC $(j "$OUT" "[j.ok, $COUNTS]")" "1 [true,[1,0,0,0,0,4000]]"
expect_eq "  ... the 300-character value: target.option_too_long" \
  "$(j "$OUT" 'j.problems.filter(p => p.value === "5001").map(p => [p.code, /255/.test(p.message)])')" \
  '[["target.option_too_long",true]]'
expect_eq "  ... 'CUSTOMER 0001': target.option_duplicate naming the Jira option it clashes with" \
  "$(j "$OUT" 'j.problems.filter(p => p.value === "5002").map(p => [p.code, /Customer 0001/.test(p.message)])')" \
  '[["target.option_duplicate",true]]'
expect_eq "  ... Jira never saw them: one POST, no 400" \
  "$(writes) $(j "$COUNTERS" 'j.status["400"] || 0')" "[1,0,0] 0"

# ================================================================== 6
section "6. Jira's refusals, explained"
sync jira-wrong-token
expect_eq "401 → target.jira_unauthorized, the hint names the API token (exit: upstream)" \
  "$RC $(j "$OUT" '[j.ok, j.error.code, /API token/.test(j.error.hint)]')" '1 [false,"target.jira_unauthorized",true]'
sync jira-not-admin
expect_eq "403 → target.jira_forbidden: the account must be a Jira admin" \
  "$(j "$OUT" '[j.error.code, /Administer Jira/.test(j.error.hint)]')" '["target.jira_forbidden",true]'
sync jira-wrong-context
expect_eq "an unknown context_id → target.jira_not_found listing the field's contexts" \
  "$(j "$OUT" '[j.error.code, /10142 .Default Configuration Scheme for Customer. \(global\), 10143/.test(j.error.hint)]')" \
  '["target.jira_not_found",true]'
sync jira-wrong-field
expect_eq "an unknown field_id → target.jira_not_found, the hint says check field_id" \
  "$(j "$OUT" '[j.error.code, /field_id/.test(j.error.hint)]')" '["target.jira_not_found",true]'
"${EXTDATA[@]}" target sync jira-wrong-token >"$WORK/text.out" 2>"$WORK/text.err"
expect_eq "without --output json: the error and its hint on stderr" \
  "$(grep -c 'API token' "$WORK/text.err")" 1
"${EXTDATA[@]}" --output json target sync jira-custmer >"$OUT" 2>/dev/null
expect_eq "an unknown target → target.not_found with a did-you-mean" \
  "$(j "$OUT" '[j.error.code, j.error.hint]')" "[\"target.not_found\",\"Did you mean 'jira-customer'?\"]"

# ================================================================== 7
section "7. the API"
ADMIN=$("${EXTDATA[@]}" token create --role admin 2>/dev/null)
READER=$("${EXTDATA[@]}" token create --role reader 2>/dev/null)
"${EXTDATA[@]}" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 400); do
  API=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $API ]] && break
  sleep 0.05
done
[[ -n $API ]] || die "serve did not start"
API=$API/api/v1
code() { curl -sS -o "$OUT" -w '%{http_code}' "$@"; }
expect_eq "POST /targets/{name}/sync with a reader token → 403" \
  "$(code -X POST -H "Authorization: Bearer $READER" "$API/targets/jira-customer/sync")" 403
reset
expect_eq "with an admin token → 200, the report (nothing to change)" \
  "$(code -X POST -H "Authorization: Bearer $ADMIN" "$API/targets/jira-customer/sync") $(j "$OUT" "[j.ok, $COUNTS]")" \
  "200 [true,[0,0,0,0,0,4001]]"
expect_eq "the sources page shows the target's last sync and counts" \
  "$(code -H "Authorization: Bearer $ADMIN" "$API/sources") $(j "$OUT" 'j.sources[0].targets.filter(t => t.name === "jira-customer").map(t => [t.last_sync.ok, t.last_sync.counts.unchanged])')" \
  "200 [[true,4001]]"
expect_eq "  ... and a failing target's error" \
  "$(j "$OUT" 'j.sources[0].targets.filter(t => t.name === "jira-wrong-token").map(t => t.last_sync.error.code)')" \
  '["target.jira_unauthorized"]'
customers 1 4000 'items[6].name = "Customer 0007 (renamed again)"; items.push({ id: 5003, name: "Fine New Customer" });'
reset
expect_eq "a refresh of the source syncs its targets: the rename reaches Jira" \
  "$(code -X POST -H "Authorization: Bearer $ADMIN" "$API/sources/crm/refresh") $(curl -sS "$JIRA/_jira/options?context=10142" >"$OPTIONS"; j "$OPTIONS" "j.find(o => o.id === '$ID7').value")" \
  "200 Customer 0007 (renamed again)"
printf '{"items": [' >"$CUSTOMERS"  # cut short: the source cannot be read
expect_eq "a sync whose source cannot be read pushes nothing and is recorded as failed" \
  "$(code -X POST -H "Authorization: Bearer $ADMIN" "$API/targets/jira-customer/sync") $(j "$OUT" '[j.ok, j.requests, typeof j.error.code]')" \
  '200 [false,0,"string"]'
expect_eq "  ... the sources page shows that failure, not the sync before it" \
  "$(code -H "Authorization: Bearer $ADMIN" "$API/sources") $(j "$OUT" 'j.sources[0].targets.filter(t => t.name === "jira-customer").map(t => [t.last_sync.ok, t.last_sync.error.message.length > 0])')" \
  "200 [[false,true]]"

echo
echo "$passed passed, $failed failed"
((failed == 0))
