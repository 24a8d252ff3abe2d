#!/usr/bin/env bash
# Field options over SQL records (docs/benchmarks.md, "Field options over SQL records"; issue
# 17: options search over an sql source's records must keep the figures of "Field options
# over HTTP"). The same ITEMS customers (100,000 by default) served twice by one
# `extdata serve`:
#   - `customer`: the sharepoint-list source over graphsim, exactly as in run-field-options.sh;
#   - `customer_sql`: an sql source over a PostgreSQL 15 table holding the same id, Title, City
#     and Country (exported from the SharePoint records with `extdata fetch`), with the same
#     label, search and sort templates.
# Both first answers must be equal (value and label of every option); then wrk asks each field
# `q=ab&limit=20`, alternating RUNS times. Prints medians and the sql / sharepoint ratios.
#   bench/run-options-over-sql.sh     (after `make build`; RUNS=3 DURATION=10s ITEMS=100000)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
EXTDATA=${EXTDATA:-$BUILD/extdata}
GRAPHSIM=${GRAPHSIM:-$BUILD/extdata-graphsim}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
ITEMS=${ITEMS:-100000}
QUERY=${QUERY:-q=ab&limit=20}
for tool in wrk jq psql; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps" >&2; exit 1; }
done
[[ -x $EXTDATA && -x $GRAPHSIM ]] || { echo "missing $EXTDATA or $GRAPHSIM: make build" >&2; exit 1; }
export EXTDATA_ALLOW_HOSTS=127.0.0.1

work=$(mktemp -d)
export DB_WORK=$work  # tests/support/db-servers.sh keeps its servers there
pids=()
# shellcheck source=../tests/support/db-servers.sh
source tests/support/db-servers.sh
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  db_stop_all
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=lib.sh
source bench/lib.sh

start_graphsim "$ITEMS"
sharepoint_config "$work/sharepoint.yaml"
BENCH_SECRET=$BENCH_SECRET "$EXTDATA" --data "$work/data" apply -f "$work/sharepoint.yaml" >/dev/null

# The SharePoint records as rows: id, Title, City (missing on some items), Country. The list
# has the fixture's own items besides the ITEMS generated ones.
BENCH_SECRET=$BENCH_SECRET "$EXTDATA" --data "$work/data" fetch customers --output json |
  jq -r '.[] | [.id, .fields.Title, .fields.City, .fields.Country] | @csv' \
    >"$work/customers.csv"
rows=$(wc -l <"$work/customers.csv")
[[ $rows -ge $ITEMS ]] || { echo "exported $rows rows, expected at least $ITEMS" >&2; exit 1; }

db_start_postgres
pg_sql "CREATE DATABASE bench"
PG_DB=bench pg_sql "CREATE TABLE customers (id text PRIMARY KEY, title text, city text, country text)"
PG_DB=bench pg_sql "\\copy customers FROM '$work/customers.csv' WITH (FORMAT csv)"
PG_DB=bench pg_sql "VACUUM ANALYZE customers"
PASSWORD='bench-Passw0rd'
PG_DB=bench db_pg_user bench_reader "$PASSWORD" bench

cat >"$work/sql.yaml" <<YAML
sources:
  - name: customers_sql
    type: sql
    driver: postgres
    connection: postgresql://bench_reader@127.0.0.1:$PG_PORT/bench?sslmode=disable
    password: \${env:BENCH_PG_PASSWORD}
    query: "SELECT id, title, city, country FROM customers"
    max_records: $((ITEMS * 2))
    cache_ttl: 1h
fields:
  - name: customer_sql
    source: customers_sql
    label: "{title} ({city|—}, {country})"
    value: "{id}"
    search: "{title} {city|} {country}"
    sort: "{title}"
YAML
BENCH_PG_PASSWORD=$PASSWORD "$EXTDATA" --data "$work/data" apply -f "$work/sql.yaml" >/dev/null

serve serve --data "$work/data" -- --anonymous-read
sharepoint_url="$EXTDATA_URL/api/v1/fields/customer/options?$QUERY"
sql_url="$EXTDATA_URL/api/v1/fields/customer_sql/options?$QUERY"
curl -sS --fail -o "$work/sharepoint.json" "$sharepoint_url"
curl -sS --fail -o "$work/sql.json" "$sql_url"
options() { jq -c '[.total, (.options[] | [.value, .label])]' "$1"; }
cmp <(options "$work/sharepoint.json") <(options "$work/sql.json") ||
  { echo "the sql field answers differently from the sharepoint field" >&2; exit 1; }
echo "both fields: total $(jq .total "$work/sql.json"), $(jq '.options | length' "$work/sql.json") options, equal" >&2

for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  run_wrk sharepoint "$sharepoint_url"
  run_wrk sql "$sql_url"
done

for name in sharepoint sql; do
  for col in 2 3 4; do awk -v n=$name -v c=$col '$1==n {print $c}' "$work/results" | median; done |
    paste -sd' ' | sed "s/^/$name /"
done >"$work/medians"
read -r _ sp_rps sp_p50 sp_p99 < <(grep '^sharepoint ' "$work/medians")
read -r _ sql_rps sql_p50 sql_p99 < <(grep '^sql ' "$work/medians")
sp_bytes=$(wc -c <"$work/sharepoint.json")
sql_bytes=$(wc -c <"$work/sql.json")

echo
echo "### wrk -t2 -c64 -d$DURATION, GET .../options?$QUERY ($ITEMS records; medians of $RUNS alternating runs)"
echo
echo "| field over | req/s | p50 | p99 | body |"
echo "|---|---|---|---|---|"
printf '| sharepoint-list (graphsim) | %.0f | %.2f ms | %.2f ms | %d bytes |\n' "$sp_rps" "$sp_p50" "$sp_p99" "$sp_bytes"
printf '| sql (PostgreSQL 15) | %.0f | %.2f ms | %.2f ms | %d bytes |\n' "$sql_rps" "$sql_p50" "$sql_p99" "$sql_bytes"
echo
printf 'sql / sharepoint, requests per second: %.2fx (per run: %s)\n' \
  "$(bc -l <<<"$sql_rps / $sp_rps")" \
  "$(paste -d' ' <(awk '$1=="sql" {print $2}' "$work/results") \
    <(awk '$1=="sharepoint" {print $2}' "$work/results") |
    awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1 / $2}')"
