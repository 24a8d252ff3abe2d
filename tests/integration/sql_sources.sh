#!/usr/bin/env bash
# The sql source (docs/sql.md) through the real `extdata` CLI and server against real database
# servers started here from Debian's packages (tests/support/db-servers.sh): PostgreSQL 15 and
# MariaDB 10.11 on free ports on 127.0.0.1 (as `nobody` when run as root), SQLite files, and
# ODBC through unixODBC with the SQLite and PostgreSQL ODBC drivers (an odbcinst.ini of our own
# in $WORK, via ODBCSYSINI). Every server is stopped on exit.
#
# Checks assert what the CLI printed and its exit code, and what the database saw: PostgreSQL
# logs every statement (log_statement=all), so the tests read that the query arrived with $1
# placeholders and the values as separate parameters; after injection attempts and writing
# queries the tables still hold their rows.
#
# No sleeps for timing: the statement-timeout checks make the server work longer than the
# timeout (pg_sleep, a large sequence), and waits are polls of a server's readiness.
#
# Env: EXTDATA_BIN, EXTDATA_SOURCE_DIR (set by ctest). Needs psql, mariadb, sqlite3, jq, curl.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
export EXTDATA_ALLOW_HOSTS=127.0.0.1
unset EXTDATA_DATA EXTDATA_FILES_ROOT

for tool in psql mariadb sqlite3 jq curl python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "FAIL: $tool is required (scripts/install-deps)"
    echo "0 passed, 1 failed"
    exit 1
  }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-sql.XXXXXX")
DB_WORK=$WORK
# shellcheck source=../support/db-servers.sh
source "$SRC/tests/support/db-servers.sh"
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
  db_stop_all
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want match: $3"; fi; }
expect_no() { if [[ $2 != *"$3"* ]]; then pass "$1"; else fail "$1" "output contains '$3'"; fi; }
section() { printf '\n== %s\n' "$1"; }
die() {
  echo "setup failed: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

APP_PASSWORD='S3cret-pg-Passw0rd!'
MY_PASSWORD='S3cret-my-Passw0rd!'
export PG_APP_PASSWORD=$APP_PASSWORD MY_APP_PASSWORD=$MY_PASSWORD
export PG_WRONG_PASSWORD='not-the-password' MY_WRONG_PASSWORD='not-the-password'

X=("$EXTDATA_BIN")
CFG=$WORK/sql.yaml
# test SOURCE [--var k=v ...]: `source test` with JSON output → $OUT, exit code → $RC
test_source() {
  local name=$1
  shift
  OUT=$("${X[@]}" --output json source test "$name" --config "$CFG" "$@" 2>"$WORK/stderr")
  RC=$?
}
records() { jq -c '.sample' <<<"$OUT"; }
count() { jq -r '.records' <<<"$OUT"; }
code() { jq -r '.error.code // "none"' <<<"$OUT"; }

# ------------------------------------------------------------------ servers and data
PG_OPTS="-c log_statement=all -c log_min_error_statement=error" db_start_postgres ||
  die "PostgreSQL did not start"
pg_sql "CREATE DATABASE crm" || die "create database"
PG_DB=crm pg_sql "
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text,
    manager text, active boolean, since timestamptz, photo bytea, balance numeric(12,2),
    rating double precision, tags jsonb);
  INSERT INTO customers VALUES
    (1, 'Zoë Müller GmbH', 'DE', 'Åsa Öberg', true, '2024-05-01 10:00:00+02', '\\x00ff10', 1234.50, 4.5, '{\"tier\": \"gold\"}'),
    (2, 'Ñandú S.A.', 'ES', NULL, false, NULL, NULL, NULL, NULL, NULL),
    (3, 'Łódź Logistics', 'PL', 'Jürgen Groß', true, '2023-01-31 23:59:59.25+00', NULL, -7.00, 3, NULL),
    (4, 'Bäckerei Köln', 'DE', NULL, NULL, NULL, NULL, 0, NULL, '[1, 2]'),
    (5, 'O''Brien & Sons', 'IE', 'Siobhán', true, NULL, NULL, 99999999.99, NULL, NULL);
  CREATE TABLE salaries (who text, amount int);
  INSERT INTO salaries VALUES ('boss', 1000000);" || die "create tables"
PG_DB=crm db_pg_user app "$APP_PASSWORD" crm || die "create role"
# The user may write customers: only the read-only session stops the writing queries below.
PG_DB=crm pg_sql "REVOKE SELECT ON salaries FROM app;
  GRANT INSERT, UPDATE, DELETE ON customers TO app" || die "grants"
pg_rows() { PG_DB=crm pg_sql "SELECT count(*) FROM customers"; }
# Text that COPY's text format escapes (tab, newline, backslash, the text \N, control
# characters) and values whose text decides their JSON type.
PG_DB=crm pg_sql "$(cat <<'SQL'
CREATE TABLE notes (id int PRIMARY KEY, body text, doc jsonb, raw bytea, r float8, n numeric,
  at timestamptz);
INSERT INTO notes VALUES
  (1, E'tab\there, new\nline, back\\slash, \\N, cr\r, bs\b ff\f vt\013', '{"k": "a\tb\\c\nd"}',
   '\x5c4e0a09', 0.30000000000000004, 'NaN', 'infinity'),
  (2, E'\\N', '[]', '', 1e300, 12345678901234567890.5, '0044-03-15 12:00:00+00 BC'),
  (3, '', NULL, NULL, -0, 0.000, '2024-05-01 10:00:00.123456+05:30');
GRANT SELECT ON notes TO app;
SQL
)" || die "notes table"

db_start_mariadb || die "MariaDB did not start"
my_sql "CREATE DATABASE shop CHARACTER SET utf8mb4;
  USE shop;
  CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, country CHAR(2),
    manager VARCHAR(100), active BOOLEAN, since DATETIME, photo VARBINARY(16),
    balance DECIMAL(12,2)) CHARACTER SET utf8mb4;
  INSERT INTO customers VALUES
    (1, 'Zoë Müller GmbH', 'DE', 'Åsa Öberg', 1, '2024-05-01 08:00:00', 0x00ff10, 1234.50),
    (2, 'Ñandú S.A.', 'ES', NULL, 0, NULL, NULL, NULL),
    (3, 'Bäckerei Köln', 'DE', NULL, NULL, NULL, NULL, 0);" || die "MariaDB data"
db_my_user app "$MY_PASSWORD" shop || die "MariaDB user"
my_sql "GRANT INSERT, UPDATE, DELETE ON shop.customers TO 'app'@'%'" || die "MariaDB grants"
my_rows() { my_sql "SELECT count(*) FROM shop.customers"; }

# SQLite files are read only under the operator's files roots, as for `type: file`.
mkdir -p "$WORK/files"
export EXTDATA_FILES_ROOT=$WORK/files
LITE=$WORK/files/catalogue.db
sqlite3 "$LITE" "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, country TEXT,
    active BOOLEAN, added DATETIME, image BLOB, price REAL);
  INSERT INTO products VALUES (1, 'Crème brûlée', 'FR', 1, '2024-05-01 10:00:00', x'00ff10', 4.5),
    (2, 'Smørrebrød', 'DK', 0, NULL, NULL, NULL), (3, 'Pierogi', 'PL', NULL, NULL, NULL, 2);" ||
  die "sqlite file"
lite_sum() { sha256sum "$LITE" | cut -d' ' -f1; }
LITE_SUM=$(lite_sum)

# unixODBC's trace records the connection string each driver was given (what extdata sent).
cat >"$WORK/odbcinst.ini" <<INI
[ODBC]
Trace=Yes
TraceFile=$WORK/odbc-trace.log
[SQLite3]
Driver=/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so
[PostgreSQL ANSI]
Driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbca.so
INI
export ODBCSYSINI=$WORK ODBCINI=$WORK/odbc.ini
: >"$WORK/odbc.ini"

PG="postgresql://app@127.0.0.1:$PG_PORT/crm"
MY="mysql://app@127.0.0.1:$MY_PORT/shop"
pg() { # NAME QUERY [extra yaml lines]
  printf '  - name: %s\n    type: sql\n    driver: postgres\n    connection: "%s"\n    password: ${env:PG_APP_PASSWORD}\n    query: "%s"\n' "$1" "$PG" "$2"
  [[ -n ${3:-} ]] && printf '%s\n' "$3"
}
my() {
  printf '  - name: %s\n    type: sql\n    driver: mysql\n    connection: "%s"\n    password: ${env:MY_APP_PASSWORD}\n    query: "%s"\n' "$1" "$MY" "$2"
  [[ -n ${3:-} ]] && printf '%s\n' "$3"
}
lite() {
  printf '  - name: %s\n    type: sql\n    driver: sqlite\n    path: %s\n    query: "%s"\n' "$1" "${3:-$LITE}" "$2"
  [[ -n ${4:-} ]] && printf '%s\n' "$4"
}
BY_COUNTRY='    variables: {country: {required: true}}'
ALL="SELECT id, name, country, manager, active, since, photo, balance, rating, tags FROM customers ORDER BY id"
{
  echo "sources:"
  pg pg_all "$ALL"
  pg pg_country "SELECT id, name FROM customers WHERE country = :country ORDER BY id" "$BY_COUNTRY"
  pg pg_notes "SELECT id, body, doc, raw, r, n, at FROM notes ORDER BY id"
  pg pg_notes_bound "SELECT id, body, doc, raw, r, n, at FROM notes WHERE id > :after ORDER BY id" \
    '    variables: {after: {required: true}}'
  pg pg_delete "DELETE FROM customers"
  pg pg_update "UPDATE customers SET name = 'x'"
  pg pg_cte "WITH added AS (INSERT INTO customers (id, name) VALUES (99, 'x') RETURNING id) SELECT id FROM added"
  pg pg_slow "SELECT pg_sleep(30)" "    statement_timeout: 500ms"
  pg pg_capped "SELECT id FROM customers" "    max_records: 3"
  pg pg_nosuch "SELECT * FROM customer"
  pg pg_denied "SELECT * FROM salaries"
  printf '  - name: pg_wrong_password\n    type: sql\n    driver: postgres\n    connection: "%s"\n    password: ${env:PG_WRONG_PASSWORD}\n    query: "SELECT 1"\n' "$PG"
  printf '  - name: pg_unknown_db\n    type: sql\n    driver: postgres\n    connection: "postgresql://app@127.0.0.1:%s/crmx"\n    password: ${env:PG_APP_PASSWORD}\n    query: "SELECT 1"\n' "$PG_PORT"
  my my_all "SELECT id, name, country, manager, active, since, photo, balance FROM customers ORDER BY id"
  my my_country "SELECT id, name FROM customers WHERE country = :country ORDER BY id" "$BY_COUNTRY"
  my my_delete "DELETE FROM customers"
  my my_update "UPDATE customers SET name = 'x'"
  my my_slow "SELECT COUNT(*) FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq + b.seq = 3" "    statement_timeout: 500ms"
  my my_capped "SELECT id FROM customers" "    max_records: 2"
  my my_nosuch "SELECT * FROM customer"
  printf '  - name: my_wrong_password\n    type: sql\n    driver: mysql\n    connection: "%s"\n    password: ${env:MY_WRONG_PASSWORD}\n    query: "SELECT 1"\n' "$MY"
  printf '  - name: my_unknown_db\n    type: sql\n    driver: mysql\n    connection: "mysql://app@127.0.0.1:%s/shopx"\n    password: ${env:MY_APP_PASSWORD}\n    query: "SELECT 1"\n' "$MY_PORT"
  lite lite_all "SELECT * FROM products ORDER BY id"
  lite lite_country "SELECT id, name FROM products WHERE country = :country" "$LITE" "$BY_COUNTRY"
  lite lite_delete "DELETE FROM products"
  lite lite_missing "SELECT 1" "$WORK/files/missing.db"
  lite lite_capped "SELECT id FROM products" "$LITE" "    max_records: 2"
  lite lite_slow "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n" "$LITE" "    statement_timeout: 500ms"
  printf '  - name: odbc_lite\n    type: sql\n    driver: odbc\n    connection: "Driver=SQLite3;Database=%s"\n    query: "SELECT id, name, country FROM products WHERE country = :country"\n%s\n' "$LITE" "$BY_COUNTRY"
  printf '  - name: odbc_lite_delete\n    type: sql\n    driver: odbc\n    connection: "Driver=SQLite3;Database=%s"\n    query: "DELETE FROM products"\n' "$LITE"
  printf '  - name: odbc_pg\n    type: sql\n    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Server=127.0.0.1;Port=%s;Database=crm;UID=app"\n    password: ${env:PG_APP_PASSWORD}\n    query: "SELECT id, name, manager FROM customers WHERE country = :country ORDER BY id"\n%s\n' "$PG_PORT" "$BY_COUNTRY"
  # By name: extdata resolves and checks localhost and pins psqlodbc to the checked address.
  printf '  - name: odbc_pg_by_name\n    type: sql\n    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Servername=localhost;Port=%s;Database=crm;UID=app"\n    password: ${env:PG_APP_PASSWORD}\n    query: "SELECT count(*) AS n FROM customers"\n' "$PG_PORT"
  printf '  - name: odbc_pg_blocked\n    type: sql\n    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Server=10.255.255.1;Port=%s;Database=crm;UID=app"\n    password: ${env:PG_APP_PASSWORD}\n    query: "SELECT 1"\n' "$PG_PORT"
  printf '  - name: odbc_pg_delete\n    type: sql\n    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Server=127.0.0.1;Port=%s;Database=crm;UID=app"\n    password: ${env:PG_APP_PASSWORD}\n    query: "DELETE FROM customers"\n' "$PG_PORT"
  cat <<'YAML'
fields:
  - name: customer
    source: pg_country
    variables: {country: "{country}"}
    value: "{id}"
    label: "{name}"
YAML
} >"$CFG"

"${X[@]}" validate "$CFG" >"$WORK/validate.out" 2>&1
expect_eq "the config with every source validates" "$?" "0"

# ------------------------------------------------------------------ PostgreSQL
section "PostgreSQL: records, types, accented names and NULLs"
test_source pg_all
expect_eq "source test succeeds with 5 records" "$RC $(count)" "0 5"
expect_eq "row 1: accents, true, RFC 3339 UTC, base64 bytes, numeric, double, jsonb" \
  "$(jq -c '.sample[0]' <<<"$OUT")" \
  '{"active":true,"balance":1234.5,"country":"DE","id":1,"manager":"Åsa Öberg","name":"Zoë Müller GmbH","photo":"AP8Q","rating":4.5,"since":"2024-05-01T08:00:00Z","tags":{"tier":"gold"}}'
expect_eq "row 2: NULLs are null, false is false" "$(jq -c '.sample[1]' <<<"$OUT")" \
  '{"active":false,"balance":null,"country":"ES","id":2,"manager":null,"name":"Ñandú S.A.","photo":null,"rating":null,"since":null,"tags":null}'
expect_eq "fractional seconds kept; a quote in a name" \
  "$(jq -r '.sample[2].since + " " + .sample[4].name' <<<"$OUT")" "2023-01-31T23:59:59.25Z O'Brien & Sons"
expect_eq "columns in the query's order" "$(jq -c '.columns' <<<"$OUT")" \
  '["id","name","country","manager","active","since","photo","balance","rating","tags"]'
TEXT=$("${X[@]}" source test pg_all --config "$CFG" 2>&1)
expect_match "text report: the connection (no password), the query, time, rows" "$TEXT" \
  "connect.*SQL +ok +[0-9.]+ ms  postgresql://app@127.0.0.1:$PG_PORT/crm.*query.*SQL +ok +[0-9.]+ ms  SELECT id, name.*records: 5.*first records:.*Zoë Müller GmbH"
expect_no "  ... and never the password" "$TEXT$OUT" "$APP_PASSWORD"

section "PostgreSQL: a dependent query binds :country as \$1"
test_source pg_country --var country=DE
expect_eq "country=DE → the two German customers" "$(jq -c '[.sample[].name]' <<<"$OUT")" \
  '["Zoë Müller GmbH","Bäckerei Köln"]'
expect_match "the report shows the placeholder and the bound value" \
  "$(jq -r '.steps[1].url' <<<"$OUT")" 'WHERE country = \$1 ORDER BY id  with \$1 = :country = "DE"'
expect_match "the server received \$1 and the value as a parameter" \
  "$(cat "$PG_DIR/server.log")" "WHERE country = \\\$1 ORDER BY id.*parameters: \\\$1 = 'DE'"
test_source pg_country
expect_eq "no country → source.variable_missing, nothing sent" "$RC $(code)" "1 source.variable_missing"

section "PostgreSQL: a query without parameters is read with COPY, as a cursor reads it"
test_source pg_notes
COPIED=$OUT
expect_eq "3 records" "$RC $(count)" "0 3"
expect_eq "escaped text comes back as stored; the text \\N is not null" \
  "$(jq -c '[.sample[0].body, .sample[0].doc, .sample[0].raw, .sample[1].body]' <<<"$OUT")" \
  '["tab\there, new\nline, back\\slash, \\N, cr\r, bs\b ff\f vt\u000b",{"k":"a\tb\\c\nd"},"XE4KCQ==","\\N"]'
test_source pg_notes_bound --var after=0
expect_eq "the same records, values and types through the cursor (a bound parameter)" \
  "$(jq -c '.sample' <<<"$OUT")" "$(jq -c '.sample' <<<"$COPIED")"
expect_match "the server was sent COPY for the first and a cursor for the second" \
  "$(tr '\n' ' ' <"$PG_DIR/server.log")" \
  "COPY \([[:space:]]+SELECT id, body, doc, raw, r, n, at FROM notes ORDER BY id[[:space:]]+\) TO STDOUT.*DECLARE extdata_rows NO SCROLL CURSOR FOR SELECT id, body, doc, raw, r, n, at FROM notes WHERE id > \\\$1"

section "PostgreSQL: injection attempts are values"
for attempt in "' OR 1=1 --" "DE'; DROP TABLE customers; --" "\\'" "DE' UNION SELECT 1, who FROM salaries --"; do
  test_source pg_country --var "country=$attempt"
  expect_eq "country=$attempt → 0 records" "$RC $(count)" "0 0"
done
expect_eq "the table still holds its 5 rows" "$(pg_rows)" "5"

section "PostgreSQL: writing queries are refused by the read-only session"
for s in pg_cte pg_update pg_delete; do
  test_source "$s"
  expect_eq "$s → sql.read_only" "$RC $(code)" "1 sql.read_only"
done
expect_match "  ... with the server's message and a hint" "$(jq -r '.error.message + " | " + .error.hint' <<<"$OUT")" \
  'cannot execute DELETE in a read-only transaction.*\| [Aa] source only reads'
expect_eq "the table still holds its 5 rows, none renamed" \
  "$(PG_DB=crm pg_sql "SELECT count(*) FROM customers WHERE name <> 'x'")" "5"

section "PostgreSQL: errors translated"
test_source pg_wrong_password
expect_eq "wrong password → sql.auth_failed" "$RC $(code)" "1 sql.auth_failed"
expect_no "  ... the wrong password is not shown" "$OUT$(cat "$WORK/stderr")" "$PG_WRONG_PASSWORD"
test_source pg_unknown_db
expect_eq "unknown database → sql.unknown_database" "$RC $(code)" "1 sql.unknown_database"
test_source pg_nosuch
expect_eq "unknown table → sql.unknown_relation" "$RC $(code)" "1 sql.unknown_relation"
test_source pg_denied
expect_eq "table without SELECT → sql.permission_denied" "$RC $(code)" "1 sql.permission_denied"
test_source pg_slow
expect_eq "statement over statement_timeout → sql.timeout" "$RC $(code)" "1 sql.timeout"
expect_match "  ... timeout category, exit code 1" "$(jq -r '.error.category' <<<"$OUT")" "timeout"
test_source pg_capped
expect_eq "5 rows over max_records 3 → sql.too_many_rows" "$RC $(code)" "1 sql.too_many_rows"
OUT=$(env -u EXTDATA_ALLOW_HOSTS "${X[@]}" --output json source test pg_all --config "$CFG" 2>/dev/null)
expect_eq "without an allow entry 127.0.0.1 is refused by the network policy" "$(code)" "network.blocked"

section "PostgreSQL: explore with sql tables / columns"
OUT=$("${X[@]}" --output json sql tables pg_all --config "$CFG" 2>&1)
expect_eq "sql tables lists what the user may read (not salaries)" \
  "$(jq -c '[.[] | .schema + "." + .name]' <<<"$OUT")" '["public.customers","public.notes"]'
OUT=$("${X[@]}" --output json sql columns pg_all customers --config "$CFG" 2>&1)
expect_eq "sql columns lists the columns with types" "$(jq -c '[.[0:3][] | .name + ":" + .type]' <<<"$OUT")" \
  '["id:integer","name:text","country:text"]'

section "PostgreSQL: the server restarts between two fetches of one running extdata"
DATA=$WORK/data
"${X[@]}" --data "$DATA" apply -f "$CFG" >"$WORK/apply.log" 2>&1 || die "apply: $(cat "$WORK/apply.log")"
TOKEN=$("${X[@]}" --data "$DATA" token create --role admin --label sql 2>/dev/null) || die "token"
LIST=$("${X[@]}" --data "$DATA" --output json source list)
expect_eq "source list says what each sql source reads: driver and where (the kind's summary)" \
  "$(jq -r '[.[] | select(.name == "pg_all" or .name == "lite_all" or .name == "odbc_lite")] | sort_by(.name) | map(.target) | join(" | ")' <<<"$LIST")" \
  "sqlite $LITE | odbc Driver=SQLite3;Database=$LITE | postgres app@127.0.0.1:$PG_PORT/crm"
"${X[@]}" --data "$DATA" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
URL=""
for _ in $(seq 400); do
  URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $URL ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n $URL ]] || die "extdata serve did not start: $(cat "$WORK/serve.log")"
api_test() { curl -sS -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data "{\"variables\": {\"country\": \"$1\"}}" "$URL/api/v1/sources/pg_country/test"; }
OUT=$(api_test DE)
expect_eq "first fetch: 2 records on a new connection" \
  "$(jq -r '"\(.ok) \(.records) \(.steps[0].response_preview)"' <<<"$OUT")" "true 2 new connection"
OUT=$(api_test PL)
expect_eq "second fetch reuses the pooled connection" \
  "$(jq -r '"\(.ok) \(.records) \(.steps[0].response_preview)"' <<<"$OUT")" "true 1 pooled connection"
db_stop_postgres && db_start_postgres || die "PostgreSQL did not restart"
OUT=$(api_test ES)
expect_eq "after the restart the fetch succeeds on a new connection" \
  "$(jq -r '"\(.ok) \(.records) \(.steps[0].attempts)"' <<<"$OUT")" "true 1 2"
expect_match "  ... and says it reconnected" "$(jq -r '.steps[0].response_preview' <<<"$OUT")" "reconnected"
OUT=$(curl -sS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/fields/customer/options?ctx.country=DE")
expect_eq "field options over the sql source (context country=DE)" \
  "$(jq -c '[.options[] | .value + "=" + .label]' <<<"$OUT")" '["1=Zoë Müller GmbH","4=Bäckerei Köln"]'
db_stop_postgres
OUT=$(api_test IE)
expect_match "with the server stopped: an upstream-unavailable error" "$(jq -r '.error.code' <<<"$OUT")" \
  "sql.connection_lost|sql.unreachable"
db_start_postgres || die "PostgreSQL did not start again"
OUT=$(api_test IE)
expect_eq "and once it is back the next fetch works" "$(jq -r '"\(.ok) \(.records)"' <<<"$OUT")" "true 1"
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=""

# ------------------------------------------------------------------ SQLite
section "SQLite: a file opened read-only"
test_source lite_all
expect_eq "3 records" "$RC $(count)" "0 3"
expect_eq "row 1: accents, boolean, timestamp, base64, real" "$(jq -c '.sample[0]' <<<"$OUT")" \
  '{"active":true,"added":"2024-05-01T10:00:00","country":"FR","id":1,"image":"AP8Q","name":"Crème brûlée","price":4.5}'
expect_eq "row 2: NULLs" "$(jq -c '.sample[1]' <<<"$OUT")" \
  '{"active":false,"added":null,"country":"DK","id":2,"image":null,"name":"Smørrebrød","price":null}'
test_source lite_country --var country=DK
expect_eq "dependent query" "$(jq -c '[.sample[].name]' <<<"$OUT")" '["Smørrebrød"]'
for attempt in "' OR 1=1 --" "DK'; DROP TABLE products; --" "\\'"; do
  test_source lite_country --var "country=$attempt"
  expect_eq "country=$attempt → 0 records" "$RC $(count)" "0 0"
done
test_source lite_delete
expect_eq "DELETE → sql.read_only" "$RC $(code)" "1 sql.read_only"
expect_eq "the file is unchanged" "$(lite_sum)" "$LITE_SUM"
test_source lite_missing
expect_eq "a missing file → sql.unknown_database (not created)" "$RC $(code) $([[ -e $WORK/files/missing.db ]] && echo created)" \
  "1 sql.unknown_database "
test_source lite_capped
expect_eq "row cap" "$RC $(code)" "1 sql.too_many_rows"
test_source lite_slow
expect_eq "statement timeout" "$RC $(code)" "1 sql.timeout"
OUT=$("${X[@]}" --output json sql columns lite_all products --config "$CFG" 2>&1)
expect_eq "sql columns" "$(jq -c '[.[] | .name]' <<<"$OUT")" '["id","name","country","active","added","image","price"]'

# ------------------------------------------------------------------ MariaDB
section "MariaDB: records, types, dependent query"
test_source my_all
expect_eq "3 records" "$RC $(count)" "0 3"
expect_eq "row 1: accents, BOOLEAN, DATETIME in UTC, bytes, decimal" "$(jq -c '.sample[0]' <<<"$OUT")" \
  '{"active":true,"balance":1234.5,"country":"DE","id":1,"manager":"Åsa Öberg","name":"Zoë Müller GmbH","photo":"AP8Q","since":"2024-05-01T08:00:00Z"}'
expect_eq "row 2: NULLs" "$(jq -c '.sample[1]' <<<"$OUT")" \
  '{"active":false,"balance":null,"country":"ES","id":2,"manager":null,"name":"Ñandú S.A.","photo":null,"since":null}'
test_source my_country --var country=DE
expect_eq "country=DE" "$(jq -c '[.sample[].name]' <<<"$OUT")" '["Zoë Müller GmbH","Bäckerei Köln"]'
for attempt in "' OR 1=1 --" "DE'; DROP TABLE customers; --" "\\'" "DE\\' OR 1=1 -- "; do
  test_source my_country --var "country=$attempt"
  expect_eq "country=$attempt → 0 records" "$RC $(count)" "0 0"
done
for s in my_delete my_update; do
  test_source "$s"
  expect_eq "$s → sql.read_only" "$RC $(code)" "1 sql.read_only"
done
expect_eq "the table still holds its 3 rows, none renamed" \
  "$(my_sql "SELECT count(*) FROM shop.customers WHERE name <> 'x'")" "3"
test_source my_wrong_password
expect_eq "wrong password → sql.auth_failed" "$RC $(code)" "1 sql.auth_failed"
expect_no "  ... not shown" "$OUT$(cat "$WORK/stderr")" "$MY_WRONG_PASSWORD"
test_source my_unknown_db
expect_match "unknown database → refused (MariaDB answers access denied for a database the user may not see)" \
  "$RC $(code)" "^1 sql\.(unknown_database|auth_failed)$"
test_source my_nosuch
expect_eq "unknown table → sql.unknown_relation" "$RC $(code)" "1 sql.unknown_relation"
test_source my_slow
expect_eq "statement timeout → sql.timeout" "$RC $(code)" "1 sql.timeout"
test_source my_capped
expect_eq "row cap → sql.too_many_rows" "$RC $(code)" "1 sql.too_many_rows"
OUT=$("${X[@]}" --output json sql tables my_all --config "$CFG" 2>&1)
expect_eq "sql tables" "$(jq -c '[.[].name]' <<<"$OUT")" '["customers"]'

# ------------------------------------------------------------------ ODBC
section "ODBC: the SQLite ODBC driver and psqlodbc through unixODBC"
test_source odbc_lite --var country=FR
expect_eq "SQLite ODBC: country=FR" "$RC $(jq -c '.sample' <<<"$OUT")" '0 [{"country":"FR","id":1,"name":"Crème brûlée"}]'
test_source odbc_lite --var "country=' OR 1=1 --"
expect_eq "SQLite ODBC: injection attempt → 0 records" "$RC $(count)" "0 0"
test_source odbc_lite_delete
expect_eq "SQLite ODBC: DELETE changes nothing" "$(lite_sum)" "$LITE_SUM"
test_source odbc_pg --var country=DE
expect_eq "psqlodbc: country=DE with a NULL" "$RC $(jq -c '.sample' <<<"$OUT")" \
  '0 [{"id":1,"manager":"Åsa Öberg","name":"Zoë Müller GmbH"},{"id":4,"manager":null,"name":"Bäckerei Köln"}]'
test_source odbc_pg --var "country=DE'; DROP TABLE customers; --"
expect_eq "psqlodbc: injection attempt → 0 records" "$RC $(count)" "0 0"
test_source odbc_pg_delete
expect_eq "psqlodbc: DELETE → sql.read_only" "$RC $(code)" "1 sql.read_only"
section "ODBC: hosts pass the network policy and the driver gets the checked address"
: >"$WORK/odbc-trace.log"
test_source odbc_pg_by_name
expect_eq "psqlodbc by host name: connects" "$RC $(jq -c '.sample[0].n' <<<"$OUT")" "0 5"
TRACE=$(grep -a -o 'Servername=localhost[^]]*' "$WORK/odbc-trace.log" | head -1)
expect_match "  ... the driver was given the checked address as libpq's hostaddr (unixODBC trace)" \
  "$TRACE" 'pqopt=\{hostaddr=127\.0\.0\.1\}'
test_source odbc_pg_blocked
expect_eq "psqlodbc to an address the policy does not allow → network.blocked, no connection" \
  "$RC $(code)" "1 network.blocked"
expect_eq "  ... the driver was never called" "$(grep -a -c '10.255.255.1' "$WORK/odbc-trace.log")" "0"
expect_eq "the table still holds its 5 rows" "$(pg_rows)" "5"
expect_no "  ... and the password is not shown" "$OUT" "$APP_PASSWORD"

# ------------------------------------------------------------------ bad input
section "Bad input: clear errors at validate time, nothing stored"
bad() { # NAME YAML-SOURCE-LINES → code and key of the error
  printf 'sources:\n  - name: bad\n    type: sql\n%s\n' "$2" >"$WORK/bad.yaml"
  OUT=$("${X[@]}" --output json --data "$WORK/baddata" apply -f "$WORK/bad.yaml" 2>/dev/null)
  RC=$?
}
bad x $'    driver: oracle\n    connection: "x"\n    query: "SELECT 1"'
expect_match "unknown driver → config error naming driver" "$RC $(jq -r '.error.message' <<<"$OUT")" '^1 .*driver'
bad x $'    driver: postgres\n    connection: "postgresql://app@db/crm"\n    query: "SELECT 1; DROP TABLE customers"'
expect_eq "two statements → sql.multiple_statements" "$RC $(code)" "1 sql.multiple_statements"
bad x $'    driver: postgres\n    connection: "postgresql://app@db/crm"\n    query: "SELECT 1 WHERE 1 = :id"'
expect_eq "parameter not declared → sql.undeclared_parameter" "$RC $(code)" "1 sql.undeclared_parameter"
bad x $'    driver: postgres\n    connection: "postgresql://app@db/crm"\n    query: "SELECT 1"\n    variables: {country: {}}'
expect_eq "declared variable not used → sql.unused_variable" "$RC $(code)" "1 sql.unused_variable"
bad x $'    driver: postgres\n    connection: "postgresql://app:hunter2@db/crm"\n    query: "SELECT 1"'
expect_eq "password in the URL → sql.password_in_url" "$RC $(code)" "1 sql.password_in_url"
expect_no "  ... and the message does not repeat it" "$OUT" "hunter2"
bad x $'    driver: mysql\n    connection: "mysql://app:hunter2@db/shop"\n    query: "SELECT 1"'
expect_eq "password in a mysql URL → sql.password_in_url" "$RC $(code)" "1 sql.password_in_url"
bad x $'    driver: odbc\n    connection: "DSN=crm;PWD=hunter2"\n    query: "SELECT 1"'
expect_eq "PWD in an ODBC string → sql.password_in_url" "$RC $(code)" "1 sql.password_in_url"
bad x $'    driver: odbc\n    connection: "Driver=/tmp/evil.so"\n    query: "SELECT 1"'
expect_eq "an ODBC driver given as a file → sql.bad_connection" "$RC $(code)" "1 sql.bad_connection"
bad x $'    driver: postgres\n    connection: "postgresql://app@db/crm"\n    query: "SELECT 1 WHERE 1 = ?"'
expect_eq "a hand-written ? placeholder → sql.bad_query" "$RC $(code)" "1 sql.bad_query"
cp "$LITE" "$WORK/outside.db"
bad x "    driver: sqlite
    path: $WORK/outside.db
    query: \"SELECT 1\""
expect_eq "a SQLite file outside the files roots → file.outside_root" "$RC $(code)" "1 file.outside_root"
ln -s "$WORK/outside.db" "$WORK/files/link.db"
bad x "    driver: sqlite
    path: $WORK/files/link.db
    query: \"SELECT 1\""
expect_eq "a symlink under the root to a file outside it → file.outside_root" "$RC $(code)" "1 file.outside_root"
bad x "    driver: odbc
    connection: \"Driver=SQLite3;Database=$WORK/outside.db\"
    query: \"SELECT 1\""
expect_eq "the SQLite ODBC driver's Database outside the files roots → file.outside_root" "$RC $(code)" "1 file.outside_root"
bad x "    driver: odbc
    connection: \"Driver=SQLite3;Database=$WORK/files/link.db\"
    query: \"SELECT 1\""
expect_eq "  ... and through a symlink escaping the root → file.outside_root" "$RC $(code)" "1 file.outside_root"
bad x $'    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Database=crm;UID=app"\n    query: "SELECT 1"'
expect_eq "an ODBC driver without Server (its own default host) → sql.bad_connection" "$RC $(code)" "1 sql.bad_connection"
bad x $'    driver: odbc\n    connection: "Driver=PostgreSQL ANSI;Server=db.example.com;Server=127.0.0.1"\n    query: "SELECT 1"'
expect_eq "a host key given twice → sql.bad_connection" "$RC $(code)" "1 sql.bad_connection"
expect_eq "nothing was stored" "$([[ -e $WORK/baddata/extdata.db ]] && "${X[@]}" --data "$WORK/baddata" source list)" ""

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
