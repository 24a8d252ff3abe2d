#!/usr/bin/env bash
# SQL fetch benchmark (docs/benchmarks.md, "SQL fetch"): a table of ROWS rows (1,000,000 by
# default) in a PostgreSQL 15 started here (tests/support/db-servers.sh, 127.0.0.1, a free
# port), read in full over TCP with a password by two contenders, alternating RUNS times:
#   - extdata: bench_sql_fetch, the sql source as `extdata` builds it, every row into records;
#   - the transfer floor: psql -c "COPY (same query) TO STDOUT" > /dev/null.
# Wall time and peak RSS from /usr/bin/time; prints medians, the ratio and RSS per record.
#   bench/run-sql.sh          (after building build/release with -DEXTDATA_BENCH=ON;
#                              RUNS=3 ROWS=1000000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export EXTDATA_ALLOW_HOSTS=127.0.0.1
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
FETCH=${FETCH:-$BUILD/bench_sql_fetch}
[[ -x $FETCH ]] || { echo "missing $FETCH: build with -DEXTDATA_BENCH=ON" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: install the time package" >&2; exit 1; }

DB_WORK=$(mktemp -d)
# shellcheck source=../tests/support/db-servers.sh
source tests/support/db-servers.sh
trap 'db_stop_all; rm -rf "$DB_WORK"' EXIT
db_start_postgres
pg_sql "CREATE DATABASE bench"
PG_DB=bench pg_sql "
  CREATE TABLE customers AS
    SELECT i AS id, 'Customer ' || i || ' Müller GmbH' AS name,
      (ARRAY['DE', 'FR', 'PL', 'ES'])[i % 4 + 1] AS country,
      'manager' || (i % 97) || '@example.com' AS manager, i % 3 <> 0 AS active,
      timestamptz '2024-01-01' + i * interval '1 minute' AS updated,
      (i * 1.25)::numeric(12, 2) AS balance
    FROM generate_series(1, $ROWS) AS i"
PG_DB=bench pg_sql "VACUUM ANALYZE customers"
PASSWORD='bench-Passw0rd'
PG_DB=bench db_pg_user bench_reader "$PASSWORD" bench
QUERY="SELECT id, name, country, manager, active, updated, balance FROM customers"

cat >"$DB_WORK/source.yaml" <<YAML
type: sql
driver: postgres
connection: postgresql://bench_reader@127.0.0.1:$PG_PORT/bench?sslmode=disable
password: "$PASSWORD"
query: "$QUERY"
max_records: $ROWS
statement_timeout: 10m
YAML

# run NAME CMD...: appends "wall_s maxrss_kib" to $DB_WORK/NAME
run() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M' -o "$DB_WORK/time" "$@" >"$DB_WORK/out" 2>"$DB_WORK/err" ||
    { cat "$DB_WORK/err" >&2; exit 1; }
  cat "$DB_WORK/time" >>"$DB_WORK/$name"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for i in $(seq "$RUNS"); do
  run floor env PGPASSWORD="$PASSWORD" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U bench_reader \
    -d bench -c "COPY ($QUERY) TO STDOUT"
  run extdata "$FETCH" "$DB_WORK/source.yaml"
  grep -q "records=$ROWS " "$DB_WORK/out" || { cat "$DB_WORK/out" >&2; exit 1; }
  cp "$DB_WORK/out" "$DB_WORK/extdata.last"
  echo "run $i: floor $(tail -1 "$DB_WORK/floor") | extdata $(tail -1 "$DB_WORK/extdata") ($(cat "$DB_WORK/out"))"
done

floor_s=$(cut -d' ' -f1 "$DB_WORK/floor" | median)
floor_kib=$(cut -d' ' -f2 "$DB_WORK/floor" | median)
ext_s=$(cut -d' ' -f1 "$DB_WORK/extdata" | median)
ext_kib=$(cut -d' ' -f2 "$DB_WORK/extdata" | median)
memory_bytes=$(sed -n 's/.*memory_bytes=\([0-9]*\).*/\1/p' "$DB_WORK/extdata.last")
echo
echo "rows: $ROWS, runs: $RUNS (medians)"
printf 'psql COPY TO STDOUT (floor): %6.2f s  peak RSS %7.1f MiB\n' "$floor_s" "$(bc -l <<<"$floor_kib / 1024")"
printf 'extdata sql source:          %6.2f s  peak RSS %7.1f MiB\n' "$ext_s" "$(bc -l <<<"$ext_kib / 1024")"
printf 'extdata / floor, wall time:  %6.2fx\n' "$(bc -l <<<"$ext_s / $floor_s")"
printf 'peak RSS per record:         %6.0f bytes (RecordSet memory_bytes per record: %.0f)\n' \
  "$(bc -l <<<"$ext_kib * 1024 / $ROWS")" "$(bc -l <<<"$memory_bytes / $ROWS")"
