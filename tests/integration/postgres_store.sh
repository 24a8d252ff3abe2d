#!/usr/bin/env bash
# Issue 19, item 4 (the store half): the real binary on a PostgreSQL 15 started here
# (tests/support/db-servers.sh). --store refuses a password in the URL and a missing master
# key; `store migrate` moves an SQLite data directory (its API token included) into an empty
# database, once; two `extdata serve` on that database: a change applied through the CLI is
# served by both within a second (LISTEN/NOTIFY); PostgreSQL stopped: options are still served
# from memory, /healthz stays 200 saying the store is unreachable, extdata_store_up is 0;
# started again: the instances reconnect (extdata_store_reconnects_total) and report it.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
for tool in curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found"; echo "0 passed, 1 failed"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-pgstore.XXXXXX")
DB_WORK=$WORK
PIDS=()
. "$EXTDATA_SOURCE_DIR/tests/support/db-servers.sh"
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  db_stop_all
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
. "$EXTDATA_SOURCE_DIR/tests/support/checks.sh"

db_start_postgres || die "PostgreSQL did not start"
PASSWORD='pw-Secret-4711'
pg_sql "CREATE ROLE extdata LOGIN PASSWORD '$PASSWORD'" && pg_sql "CREATE DATABASE extdata OWNER extdata" ||
  die "creating the role and database failed"
STORE="postgresql://extdata@127.0.0.1:$PG_PORT/extdata?sslmode=disable"
printf '%s\n' "$PASSWORD" >"$WORK/pgpassword" && chmod 600 "$WORK/pgpassword"
export EXTDATA_STORE_PASSWORD_FILE=$WORK/pgpassword
openssl rand -hex 32 >"$WORK/master.key" && chmod 600 "$WORK/master.key"

# The upstream: a static JSON file.
mkdir -p "$WORK/www" && printf '[{"id": "1", "name": "Acme"}]' >"$WORK/www/customers.json"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/www.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  UPSTREAM_PORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$WORK/www.log" | head -1)
  [[ -n $UPSTREAM_PORT ]] && break
  sleep 0.05
done
[[ -n $UPSTREAM_PORT ]] || die "the upstream did not start"
config() {  # label template
  cat <<YAML
sources:
  - {name: crm, type: rest, url: "http://127.0.0.1:$UPSTREAM_PORT/customers.json", records: "\$[*]"}
fields:
  - {name: customer, source: crm, value: "{id}", label: "$1"}
YAML
}
config "{name}" >"$WORK/config.yaml"
config "{name} (changed)" >"$WORK/changed.yaml"

section "choosing the store"
out=$(EXTDATA_MASTER_KEY_FILE=$WORK/master.key "$EXTDATA_BIN" --output json \
  --store "postgresql://extdata:$PASSWORD@127.0.0.1:$PG_PORT/extdata" init 2>&1)
expect_eq "a password in the URL is refused" "$(code_of <<<"$out")" "store.url_password"
expect_eq "the refusal does not repeat the password" "$(grep -c "$PASSWORD" <<<"$out")" "0"
out=$("$EXTDATA_BIN" --output json --store "$STORE" init 2>&1)
expect_eq "without a master key from the operator the store does not open" \
  "$(code_of <<<"$out")" "store.master_key_missing"
export EXTDATA_MASTER_KEY_FILE=$WORK/master.key

section "store migrate from SQLite"
X=("$EXTDATA_BIN" --data "$WORK/data")
"${X[@]}" apply "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
ADMIN=$("${X[@]}" token create --role admin --label ops 2>/dev/null) || die "token create failed"
"${X[@]}" --output json store migrate --to "$STORE" >"$WORK/migrate.json" 2>"$WORK/migrate.log"
expect_eq "migrate copies the source, the field and the token" \
  "$(j "$WORK/migrate.json" '[j.copied.sources, j.copied.fields, j.copied.tokens].join()')" "1,1,1"
out=$("${X[@]}" --output json store migrate --to "$STORE" 2>&1)
expect_eq "a second migrate into the now filled store is refused" "$(code_of <<<"$out")" \
  "store.migrate_not_empty"
out=$(EXTDATA_STORE=$STORE "${X[@]}" --output json backup "$WORK/b.db" 2>&1)
expect_eq "backup refuses a PostgreSQL store" "$(code_of <<<"$out")" "store.backup"

section "two instances on one store"
start_serve() {  # name → $URL
  EXTDATA_STORE=$STORE "$EXTDATA_BIN" serve --listen 127.0.0.1:0 >"$WORK/$1.out" 2>"$WORK/$1.log" &
  PIDS+=($!)
  URL=""
  for _ in $(seq 400); do
    URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/$1.out" | head -1)
    [[ -n $URL ]] && break
    sleep 0.05
  done
  [[ -n $URL ]] || die "serve $1 did not start"
}
start_serve a && A=$URL
start_serve b && B=$URL
label_of() { curl -sS -H "Authorization: Bearer $ADMIN" "$1/api/v1/fields/customer/options" >"$WORK/opt.json"; j "$WORK/opt.json" 'j.options[0].label'; }
expect_eq "A serves the migrated field with the migrated token" "$(label_of "$A")" "Acme"
expect_eq "B too" "$(label_of "$B")" "Acme"
EXTDATA_STORE=$STORE "$EXTDATA_BIN" apply "$WORK/changed.yaml" >"$WORK/apply2.log" 2>&1 || die "apply failed"
# Each instance polled on its own (curl alone, no JSON tool: the poll must not be the delay).
seen_after() {  # URL → ms until its options show the change (3000: never)
  local t0=$1 now
  while now=$(date +%s%3N) && ((now - t0 < 3000)); do
    curl -sS -H "Authorization: Bearer $ADMIN" "$2/api/v1/fields/customer/options" |
      grep -q '"label":"Acme (changed)"' && { echo $((now - t0)); return; }
    sleep 0.01
  done
  echo 3000
}
start_ms=$(date +%s%3N)
seen_after "$start_ms" "$A" >"$WORK/seen_a" &
seen_after "$start_ms" "$B" >"$WORK/seen_b" &
for _ in $(seq 500); do [[ -s $WORK/seen_a && -s $WORK/seen_b ]] && break; sleep 0.01; done
seen_a=$(cat "$WORK/seen_a") seen_b=$(cat "$WORK/seen_b")
echo "        the change was served by A after $seen_a ms, by B after $seen_b ms (at most: the poll takes time too)"
expect_eq "a change applied through the CLI is served by A within 1 s" "$([[ -n $seen_a && $seen_a -le 1000 ]] && echo yes)" "yes"
expect_eq "and by B within 1 s" "$([[ -n $seen_b && $seen_b -le 1000 ]] && echo yes)" "yes"

section "PostgreSQL stopped and started"
metric() { curl -sS "$1/metrics" | sed -n "s/^$2 \([0-9.]*\)$/\1/p"; }
expect_eq "before: extdata_store_up is 1" "$(metric "$B" extdata_store_up)" "1"
db_stop_postgres
health=""
for _ in $(seq 60); do
  health=$(curl -sS -w ' %{http_code}' "$B/healthz")
  [[ $health == *unreachable* ]] && break
  sleep 0.05
done
expect_eq "/healthz stays 200 and says the store is unreachable" "$health" '{"status":"ok","store":"unreachable"} 200'
expect_eq "extdata_store_up is 0" "$(metric "$B" extdata_store_up)" "0"
expect_eq "options are still served from memory" "$(label_of "$B")" "Acme (changed)"
db_start_postgres || die "PostgreSQL did not start again"
for _ in $(seq 100); do
  health=$(curl -sS "$B/healthz")
  [[ $health == '{"status":"ok"}' ]] && break
  sleep 0.05
done
expect_eq "after the restart /healthz is plain ok again" "$health" '{"status":"ok"}'
expect_eq "extdata_store_up is 1 again" "$(metric "$B" extdata_store_up)" "1"
expect_eq "the reconnect is counted" "$(("$(metric "$B" extdata_store_reconnects_total)" >= 1))" "1"
EXTDATA_STORE=$STORE "$EXTDATA_BIN" apply "$WORK/config.yaml" >"$WORK/apply3.log" 2>&1 || die "apply failed"
for _ in $(seq 100); do
  [[ $(label_of "$A") == "Acme" ]] && break
  sleep 0.02
done
expect_eq "and changes reach the instances again" "$(label_of "$A")" "Acme"

finish
