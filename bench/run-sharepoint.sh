#!/usr/bin/env bash
# SharePoint fetch benchmark (docs/benchmarks.md, "SharePoint fetch"): a 100,000-item list
# in graphsim over https, fetched in full by extdata (bench_sharepoint_fetch: the
# sharepoint-list source as `extdata` builds it), by the official Microsoft Graph
# JavaScript SDK (PageIterator + @azure/msal-node) and by curl with no parsing (the floor);
# also by `extdata fetch` on the same source and on the manual two-step flow as a rest source;
# alternating RUNS times. Wall time and peak RSS from /usr/bin/time; medians and ratios.
# Then a refresh of the list after 10 changed items, `sync: delta` versus `sync: full`, through
# `extdata serve` (POST /api/v1/sources/NAME/refresh): wall time and Graph requests.
#   bench/run-sharepoint.sh            (after `make build`; RUNS=3 ITEMS=100000 PAGE_SIZE=5000)
#   ONLY_REFRESH=1 bench/run-sharepoint.sh   (the refresh comparison only)
set -euo pipefail
cd "$(dirname "$0")/.."
# graphsim listens on 127.0.0.1: the network policy allows exactly that (docs/network.md).
export EXTDATA_ALLOW_HOSTS=127.0.0.1
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
ITEMS=${ITEMS:-100000}
PAGE_SIZE=${PAGE_SIZE:-5000}
TENANT=contoso.onmicrosoft.com
CLIENT_ID=11111111-1111-4111-8111-111111111111
SECRET='Abc8Q~benchSecret.Value-0001xYz2'
FETCH=${FETCH:-$BUILD/bench_sharepoint_fetch}
EXTDATA=${EXTDATA:-$BUILD/extdata}
GRAPHSIM=${GRAPHSIM:-$BUILD/extdata-graphsim}
for bin in "$FETCH" "$EXTDATA" "$GRAPHSIM"; do
  [[ -x $bin ]] || { echo "missing $bin: run make build" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: install the time package" >&2; exit 1; }
[[ -d tests/node/node_modules/@microsoft/microsoft-graph-client ]] ||
  { echo "missing npm packages: run scripts/install-deps" >&2; exit 1; }

work=$(mktemp -d)
sim_pid=
cleanup() { [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A throw-away CA and a certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=extdata bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 2 -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null

"$GRAPHSIM" --fixture bench/sharepoint-fixture.yaml --generate-items "Customers=$ITEMS" \
  --tls-cert "$work/server.pem" --tls-key "$work/server.key" --port-file "$work/port" \
  >"$work/graphsim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { cat "$work/graphsim.log" >&2; exit 1; }
BASE=https://127.0.0.1:$(cat "$work/port")

cat >"$work/source.yaml" <<YAML
type: sharepoint-list
tenant: $TENANT
client_id: $CLIENT_ID
client_secret: "$SECRET"
site: https://contoso.sharepoint.com/sites/Sales
list: Customers
page_size: $PAGE_SIZE
sync: full
authority: $BASE
graph: $BASE/v1.0
ca_bundle: $work/ca.pem
YAML

# The same source applied to a data directory, for the real CLI (`extdata fetch`).
{
  echo "sources:"
  echo "  - name: customers"
  sed 's/^/    /' "$work/source.yaml"
  # The same list through the manual two-step Graph flow as a plain rest source
  # (docs/sharepoint-rest-example.yaml with this simulator, page size and CA).
  cat <<REST
  - name: customers-rest
    type: rest
    auth:
      type: oauth2
      token_url: $BASE/{tenant}/oauth2/v2.0/token
      tenant: $TENANT
      client_id: $CLIENT_ID
      client_secret: "$SECRET"
      scope: https://graph.microsoft.com/.default
    variables:
      host: {default: contoso.sharepoint.com}
      path: {default: sites/Sales, raw: true}
      list: {default: Customers}
    steps:
      - name: resolve site
        url: $BASE/v1.0/sites/{host}:/{+path}
        extract: {site_id: \$.id}
    url: $BASE/v1.0/sites/{site_id}/lists/{list}/items?expand=fields&\$top=$PAGE_SIZE
    format: json
    records: \$.value[*]
    pagination: {type: next_link, next: "\$['@odata.nextLink']", max_pages: 100000}
    ca_bundle: $work/ca.pem
REST
} >"$work/config.yaml"
"$EXTDATA" --data "$work/data" apply -f "$work/config.yaml" >/dev/null

# The curl floor's URL list: site, list, then every page (found once, before timing).
token=$(curl -sS --cacert "$work/ca.pem" -d grant_type=client_credentials -d "client_id=$CLIENT_ID" \
  --data-urlencode "client_secret=$SECRET" -d scope=https://graph.microsoft.com/.default \
  "$BASE/$TENANT/oauth2/v2.0/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
get() { curl -sS --fail --cacert "$work/ca.pem" -H "Authorization: Bearer $token" "$1"; }
site_url="$BASE/v1.0/sites/contoso.sharepoint.com:/sites/Sales?\$select=id"
site_id=$(get "$site_url" | sed -E 's/.*"id":"([^"]+)".*/\1/')
site_enc=${site_id//,/%2C}
list_url="$BASE/v1.0/sites/$site_enc/lists/Customers?\$select=id"
list_id=$(get "$list_url" | sed -E 's/.*"id":"([^"]+)".*/\1/')
{ echo "$site_url"; echo "$list_url"; } >"$work/urls"
url="$BASE/v1.0/sites/$site_enc/lists/$list_id/items?\$expand=fields&\$top=$PAGE_SIZE"
pages=0
while [[ -n $url ]]; do
  echo "$url" >>"$work/urls"
  pages=$((pages + 1))
  url=$(get "$url" 2>/dev/null | head -c 4096 | grep -o '"@odata.nextLink":"[^"]*"' | head -1 |
    sed -E 's/"@odata.nextLink":"([^"]*)"/\1/' | sed 's#\\/#/#g' || true)
done
echo "graphsim $BASE: $ITEMS items, $pages pages of $PAGE_SIZE" >&2

ONLY_REFRESH=${ONLY_REFRESH:-0}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
if [[ $ONLY_REFRESH != 1 ]]; then
measure() {  # name, command... → appends "name wall_s max_rss_kb user_s sys_s"
  local name=$1
  shift
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
    { echo "$name failed:" >&2; cat "$work/err" "$work/out" >&2; exit 1; }
  echo "$name $(cat "$work/time")" >>"$work/results"
  echo "  $name: $(cat "$work/time") $(head -c 200 "$work/out")" >&2
}

for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS" >&2
  measure extdata "$FETCH" "$work/source.yaml"
  measure cli "$EXTDATA" --data "$work/data" fetch customers --output json
  printed=$(jq length "$work/out")
  [[ $printed -ge $ITEMS ]] || { echo "extdata fetch printed $printed records" >&2; exit 1; }
  measure rest "$EXTDATA" --data "$work/data" fetch customers-rest --output json
  printed=$(jq length "$work/out")
  [[ $printed -ge $ITEMS ]] || { echo "extdata fetch (rest) printed $printed records" >&2; exit 1; }
  measure sdk env NODE_EXTRA_CA_CERTS="$work/ca.pem" scripts/node bench/sharepoint-sdk.mjs "$BASE" \
    "$TENANT" "$CLIENT_ID" "$SECRET" contoso.sharepoint.com /sites/Sales Customers "$PAGE_SIZE"
  measure curl bash bench/sharepoint-curl-floor.sh "$BASE" "$TENANT" "$CLIENT_ID" "$SECRET" \
    "$work/ca.pem" "$work/urls"
done

for name in extdata cli rest sdk curl; do
  t=$(awk -v n=$name '$1==n {print $2}' "$work/results" | median)
  m=$(awk -v n=$name '$1==n {print $3}' "$work/results" | median)
  c=$(awk -v n=$name '$1==n {print $4 + $5}' "$work/results" | median)
  echo "$name $t $m $c"
done >"$work/medians"
# CPU time is the client's own cost; wall time includes graphsim building the pages.
awk -v runs="$RUNS" '
  {t[$1]=$2; m[$1]=$3; c[$1]=$4}
  END {
    printf "| contender | wall time | client CPU (user+sys) | peak RSS |\n|---|---|---|---|\n"
    printf "| extdata (sharepoint-list source) | %.2f s | %.2f s | %.1f MB |\n", t["extdata"], c["extdata"], m["extdata"]/1024
    printf "| extdata fetch CLI (all records as JSON to a file) | %.2f s | %.2f s | %.1f MB |\n", t["cli"], c["cli"], m["cli"]/1024
    printf "| extdata fetch CLI, manual two-step flow as a rest source | %.2f s | %.2f s | %.1f MB |\n", t["rest"], c["rest"], m["rest"]/1024
    printf "| Graph JS SDK PageIterator + msal-node | %.2f s | %.2f s | %.1f MB |\n", t["sdk"], c["sdk"], m["sdk"]/1024
    printf "| curl, no parsing (floor) | %.2f s | %.2f s | %.1f MB |\n", t["curl"], c["curl"], m["curl"]/1024
    printf "\nmedians of %d alternating runs. SDK / extdata: %.2f× wall, %.2f× CPU, %.2f× memory. extdata / curl: %.2f× wall, %.2f× CPU. SDK / CLI: %.2f× wall, %.2f× memory; CLI / curl: %.2f× wall.\n",
      runs, t["sdk"]/t["extdata"], c["sdk"]/c["extdata"], m["sdk"]/m["extdata"], t["extdata"]/t["curl"], c["extdata"]/c["curl"],
      t["sdk"]/t["cli"], m["sdk"]/m["cli"], t["cli"]/t["curl"]
  }' "$work/medians"
echo
echo "raw runs (name wall_s max_rss_kb user_s sys_s):"
cat "$work/results"
fi

# --- a refresh after 10 changed items: sync: delta versus sync: full ------------------------
# The list as two sources of one `extdata serve`, each loaded once; then RUNS times: 10 items
# changed through graphsim's admin endpoint, and each source refreshed (alternating), timing
# the API call (which includes writing the snapshot) and counting the Graph requests it made.
{
  echo "sources:"
  echo "  - name: customers-delta"
  sed 's/^sync: full$/sync: delta/; s/^/    /' "$work/source.yaml"
  echo "  - name: customers-full"
  sed 's/^/    /' "$work/source.yaml"
} >"$work/refresh.yaml"
"$EXTDATA" --data "$work/data-refresh" apply -f "$work/refresh.yaml" >/dev/null
admin=$("$EXTDATA" --data "$work/data-refresh" token create --role admin --output json | jq -r .token)
"$EXTDATA" --data "$work/data-refresh" serve --listen 127.0.0.1:0 --log-level warn \
  >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
SERVE=
for _ in $(seq 1 600); do
  SERVE=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$work/serve.out" | head -1)
  [[ -n $SERVE ]] && break
  sleep 0.1
done
[[ -n $SERVE ]] || { cat "$work/serve.out" "$work/serve.log" >&2; exit 1; }
sim() { curl -sS --fail --cacert "$work/ca.pem" "$@"; }
refresh() {  # source → "seconds graph_requests"
  sim -X POST "$BASE/_graphsim/counters/reset" >/dev/null
  local t
  t=$(curl -sS --fail -X POST -H "Authorization: Bearer $admin" -o "$work/refresh.json" \
    -w '%{time_total}' "$SERVE/api/v1/sources/$1/refresh")
  echo "$t $(sim "$BASE/_graphsim/counters" | jq .graph_requests.total)"
}
echo "refresh: first loads: delta $(refresh customers-delta), full $(refresh customers-full)" >&2
for run in $(seq 1 "$RUNS"); do
  for i in $(seq 1 10); do
    sim -X POST -H 'Content-Type: application/json' \
      -d "{\"id\": $((run * 100 + i * 7)), \"fields\": {\"Title\": \"Changed $run.$i\"}}" \
      "$BASE/_graphsim/sites/$site_enc/lists/Customers/items" >/dev/null
  done
  echo "delta $(refresh customers-delta)" >>"$work/refresh-results"
  echo "full $(refresh customers-full)" >>"$work/refresh-results"
  tail -2 "$work/refresh-results" | sed 's/^/  /' >&2
done
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
echo
echo "### refresh of $ITEMS items after 10 changed items (medians of $RUNS)"
echo
for name in delta full; do
  t=$(awk -v n=$name '$1==n {print $2}' "$work/refresh-results" | median)
  r=$(awk -v n=$name '$1==n {print $3}' "$work/refresh-results" | median)
  echo "$name $t $r"
done | awk '{t[$1]=$2; r[$1]=$3}
  END {
    printf "| sync | wall time (API refresh, snapshot written) | Graph requests |\n|---|---|---|\n"
    printf "| delta | %.3f s | %d |\n| full | %.3f s | %d |\n", t["delta"], r["delta"], t["full"], r["full"]
    printf "\nfull / delta: %.1f× wall time, %.1f× requests.\n", t["full"]/t["delta"], r["full"]/r["delta"]
  }'
echo
echo "raw refresh runs (sync wall_s graph_requests):"
cat "$work/refresh-results"
