#!/usr/bin/env bash
# The API's contract (issue 20, part 3): GET /api/v1/openapi.json from a running `extdata
# serve` (demo configuration over graphsim) is validated by an independent validator
# (@seriousme/openapi-schema-validator), and answers recorded from real requests — successes
# and errors, every role — are checked against the document's schemas with ajv
# (tests/node/openapi-check.mjs). That every route is in the document and the reverse is
# checked by the unit test OpenApi.* (unit_api).
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
node() { "$SRC/scripts/node" "$@"; }
node --version >/dev/null 2>&1 || { echo "FAIL: scripts/node does not run; run scripts/install-deps"; exit 1; }
[[ -d $SRC/tests/node/node_modules/@seriousme/openapi-schema-validator ]] ||
  { echo "FAIL: npm packages missing in tests/node; run scripts/install-deps"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-openapi.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  echo "0 passed, 1 failed"
  exit 1
}

"$GRAPHSIM_BIN" --fixture "$SRC/tools/graphsim/fixtures/demo.yaml" --listen 127.0.0.1:0 \
  --port-file "$WORK/graphsim.port" >/dev/null 2>"$WORK/graphsim.log" &
PIDS+=($!)
for _ in $(seq 400); do [[ -s "$WORK/graphsim.port" ]] && break; sleep 0.05; done
[[ -s "$WORK/graphsim.port" ]] || die "graphsim did not start"
GRAPHSIM_URL="http://127.0.0.1:$(cat "$WORK/graphsim.port")"
sed "s#@GRAPHSIM@#$GRAPHSIM_URL#g" "$SRC/examples/demo.yaml.in" >"$WORK/demo.yaml"
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
DEMO_CLIENT_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2' \
  "${EXTDATA[@]}" apply -f "$WORK/demo.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
A=$("${EXTDATA[@]}" token create --role admin 2>/dev/null) || die "token create failed"
R=$("${EXTDATA[@]}" token create --role reader 2>/dev/null) || die "token create failed"
"${EXTDATA[@]}" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
for _ in $(seq 400); do
  BASE=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $BASE ]] && break
  sleep 0.05
done
[[ -n $BASE ]] || die "extdata serve did not start"

DOC=$WORK/openapi.json
code=$(curl -sS -o "$DOC" -w '%{http_code}' "$BASE/api/v1/openapi.json")
[[ $code == 200 ]] || die "GET /api/v1/openapi.json answered $code"

# record METHOD TEMPLATE PATH TOKEN [curl args...]: one JSON line {method,path,status,body}.
RECORDS=$WORK/records.jsonl
record() {
  local method=$1 template=$2 path=$3 token=$4
  shift 4
  local auth=()
  [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
  local status
  status=$(curl -sS -o "$WORK/body" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$BASE$path")
  node -e '
    const fs = require("fs");
    const [method, path, status, file, out] = process.argv.slice(1);
    let body; try { body = JSON.parse(fs.readFileSync(file, "utf8")); } catch { body = "<not json>"; }
    fs.appendFileSync(out, JSON.stringify({ method, path, status: +status, body }) + "\n");
  ' "$method" "$template" "$status" "$WORK/body" "$RECORDS"
}
J=(-H 'Content-Type: application/json')
record GET /healthz /healthz ""
record GET /api/v1/kinds /api/v1/kinds "$A"
record GET /api/v1/kinds /api/v1/kinds "$R"
record GET /api/v1/kinds /api/v1/kinds ""
record GET /api/v1/sources /api/v1/sources "$A"
record GET /api/v1/sources/{name} /api/v1/sources/customers "$A"
record GET /api/v1/sources/{name} /api/v1/sources/nope "$A"
record PUT /api/v1/sources/{name} /api/v1/sources/extra "$A" "${J[@]}" -H 'If-None-Match: *' \
  -d "{\"type\":\"rest\",\"url\":\"$GRAPHSIM_URL/x\",\"records\":\"\$.items[*]\"}"
record PUT /api/v1/sources/{name} /api/v1/sources/extra "$A" "${J[@]}" -H 'If-None-Match: *' \
  -d "{\"type\":\"rest\",\"url\":\"$GRAPHSIM_URL/x\",\"records\":\"\$.items[*]\"}"
record PUT /api/v1/sources/{name} /api/v1/sources/extra "$A" "${J[@]}" -d '{"type":"rest"}'
record DELETE /api/v1/sources/{name} /api/v1/sources/extra "$A"
record DELETE /api/v1/sources/{name} /api/v1/sources/customers "$A"
record POST /api/v1/sources/{name}/authenticate /api/v1/sources/customers/authenticate "$A"
record POST /api/v1/sources/{name}/refresh /api/v1/sources/countries/refresh "$A"
record POST /api/v1/sources/{name}/test /api/v1/sources/countries/test "$A" "${J[@]}" -d '{}'
record GET /api/v1/fields /api/v1/fields "$A"
record GET /api/v1/fields/{name} /api/v1/fields/customer "$A"
record PUT /api/v1/fields/{name} /api/v1/fields/customer2 "$A" "${J[@]}" -d '{"source":"customers"}'
record DELETE /api/v1/fields/{name} /api/v1/fields/customer2 "$A"
record GET /api/v1/fields/{name}/options '/api/v1/fields/customer/options?q=gmbh&limit=2' "$R"
record GET /api/v1/fields/{name}/options '/api/v1/fields/customer/options?format=array&limit=3' "$R"
record GET /api/v1/fields/{name}/options '/api/v1/fields/customer/options?limit=0' "$R"
record GET /api/v1/fields/{name}/options '/api/v1/fields/nope/options' "$R"
record GET /api/v1/fields/{name}/options '/api/v1/fields/customer/options' ""
record POST /api/v1/fields/{name}/options /api/v1/fields/customer/options "$R" "${J[@]}" -d '{"q":"muller"}'
record GET /api/v1/fields/{name}/value '/api/v1/fields/customer/value?key=2' "$R"
record GET /api/v1/fields/{name}/value '/api/v1/fields/customer/value' "$R"
record POST /api/v1/draft/field-options /api/v1/draft/field-options "$A" "${J[@]}" -d '{"field":{"source":"countries"},"limit":2}'
record GET /api/v1/targets /api/v1/targets "$A"
record POST /api/v1/targets/{name}/sync /api/v1/targets/nope/sync "$A"

node "$SRC/tests/node/openapi-check.mjs" "$DOC" "$RECORDS"
