#!/usr/bin/env bash
# Jira Forms data connections (issue 20, part 1): `extdata serve` over the demo configuration
# (graphsim as Entra ID + Graph), fetched by curl exactly as docs/jira-forms.md tells Jira to:
# the URL of its step 6 (on this test's host) with HTTP Basic auth, the reader token as the
# password. Checks the documented requirements of a data connection: valid JSON, a single
# array of flat objects, each with an id (number or string) and a string value, at most the
# byte cap — and that over the cap the answer is a clear error, never a truncated list.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
node() { "$SRC/scripts/node" "$@"; }
node --version >/dev/null 2>&1 || { echo "FAIL: scripts/node does not run; run scripts/install-deps"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-jira-forms.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$SRC/tests/support/checks.sh"
BODY=$WORK/body.json
get() {  # get URL [curl args...]: body → $BODY, status → $CODE
  local url=$1
  shift
  CODE=$(curl -sS -o "$BODY" -w '%{http_code}' "$@" "$url") || CODE=000
}

start_graphsim() {
  "$GRAPHSIM_BIN" --fixture "$SRC/tools/graphsim/fixtures/demo.yaml" --listen 127.0.0.1:0 \
    --port-file "$WORK/graphsim.port" >/dev/null 2>"$WORK/graphsim.log" &
  PIDS+=($!)
  for _ in $(seq 400); do [[ -s "$WORK/graphsim.port" ]] && break; sleep 0.05; done
  [[ -s "$WORK/graphsim.port" ]] || die "graphsim did not start"
  GRAPHSIM_URL="http://127.0.0.1:$(cat "$WORK/graphsim.port")"
}
start_serve() {  # name [global flags...]
  local name=$1
  shift
  "$EXTDATA_BIN" --data "$WORK/data" "$@" serve --listen 127.0.0.1:0 >"$WORK/$name.out" 2>"$WORK/$name.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  EXTDATA_URL=""
  for _ in $(seq 400); do
    EXTDATA_URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -1)
    [[ -n $EXTDATA_URL ]] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $EXTDATA_URL ]] || die "extdata serve did not start"
}

start_graphsim
sed "s#@GRAPHSIM@#$GRAPHSIM_URL#g" "$SRC/examples/demo.yaml.in" >"$WORK/demo.yaml"
DEMO_CLIENT_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2' \
  "$EXTDATA_BIN" --data "$WORK/data" apply -f "$WORK/demo.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
READER=$("$EXTDATA_BIN" --data "$WORK/data" token create --role reader --label jira-forms 2>/dev/null) ||
  die "token create failed"

# The URL of step 6, exactly as documented, moved to this test's host.
DOC_URL=$(grep -o 'https://extdata.example.com/api/v1/fields/[^ ]*format=array' "$SRC/docs/jira-forms.md" |
  sed -n '2p')
[[ -n $DOC_URL ]] || die "docs/jira-forms.md no longer shows the data connection URL in step 6"
start_serve serve1
URL=${DOC_URL/https:\/\/extdata.example.com/$EXTDATA_URL}

printf '\n== the documented URL with Basic auth (%s)\n' "$DOC_URL"
get "$URL" -u "jira-forms:$READER"
cp "$BODY" "$WORK/array.json"
expect_eq "Basic auth, any user, the reader token as password → 200 application/json" \
  "$CODE $(curl -sS -o /dev/null -w '%{content_type}' -u "jira-forms:$READER" "$URL")" \
  "200 application/json; charset=utf-8"
expect_eq "a single array of every option (the demo's 60 customers)" \
  "$(j "$BODY" '[Array.isArray(j), j.length]')" '[true,60]'
expect_eq "every element is a flat object: no member is an object or array" \
  "$(j "$BODY" 'j.every(o => o && typeof o === "object" && !Array.isArray(o) && Object.values(o).every(v => v === null || typeof v !== "object"))')" \
  true
expect_eq "every id is a number or a string, every value a string" \
  "$(j "$BODY" 'j.every(o => (typeof o.id === "string" || typeof o.id === "number") && typeof o.value === "string")')" \
  true
expect_eq "ids are unique (Jira keys the choice by id)" "$(j "$BODY" 'new Set(j.map(o => o.id)).size')" 60
expect_eq "field order, id = value, value = label, declared data columns flat beside them" \
  "$(j "$BODY" 'j[0]')" \
  "$(curl -sS -u "x:$READER" "$EXTDATA_URL/api/v1/fields/customer/options?limit=1" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s).options[0];process.stdout.write(JSON.stringify({id:o.value,value:o.label,...o.data}))})')"
expect_eq "at most 10 MB (Jira's documented maximum)" "$(($(stat -c %s "$WORK/array.json") <= 10000000))" 1
get "$URL&q=gmbh" -u "jira-forms:$READER"
expect_eq "q still applies: the 3 GmbH customers" "$(j "$BODY" 'j.length')" 3
get "$URL&limit=7" -H "Authorization: Bearer $READER"
expect_eq "limit still applies, Bearer works as well" "$CODE $(j "$BODY" 'j.length')" "200 7"

printf '\n== refusals\n'
get "$URL" -u "jira-forms:wrong-token"
expect_eq "a wrong password → 401 api.unauthenticated" "$CODE $(j "$BODY" 'j.error.code')" \
  "401 api.unauthenticated"
get "$URL"
expect_eq "no credentials → 401 (no --anonymous-read)" "$CODE" 401
get "${URL/format=array/format=csv}" -u "jira-forms:$READER"
expect_eq "another format → 400 field.bad_format" "$CODE $(j "$BODY" 'j.error.code')" "400 field.bad_format"

kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null
start_serve serve2 --max-options-array-bytes 2000
URL=${DOC_URL/https:\/\/extdata.example.com/$EXTDATA_URL}
get "$URL" -u "jira-forms:$READER"
expect_eq "over --max-options-array-bytes → 400 field.array_too_large naming the limit, no partial list" \
  "$CODE $(j "$BODY" '[j.error.code, /options_array_max_bytes/.test(j.error.hint)]')" \
  '400 ["field.array_too_large",true]'
get "$URL&limit=3" -u "jira-forms:$READER"
expect_eq "  ... a narrower request still fits" "$CODE $(j "$BODY" 'j.length')" "200 3"

echo
echo "$passed passed, $failed failed"
((failed == 0))
