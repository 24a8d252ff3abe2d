#!/usr/bin/env bash
# Stored option tables over a restart (docs/fields.md, "Restart"), end to end: graphsim with the
# demo fixture and `extdata serve --store-tables-from 0` (every kept key's table is stored, not
# only those of 20,000 records and more). After a restart with graphsim stopped the first
# requests — a search, a plain page, a value — load the stored tables (counted), answer exactly
# as before the restart, and ask nothing upstream: account_manager (no data columns) answers
# from its table while the records load, customer (data columns) once they are loaded. A stored
# table with one flipped byte is refused (counted with reason "checksum"), rebuilt from the
# snapshot's records with the same answers, and stored again, so the next restart loads it.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 not found; run scripts/install-deps"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-restart-tables.XXXXXX")
# shellcheck source=../support/checks.sh
source "$SRC/tests/support/checks.sh"
# shellcheck source=../support/processes.sh
source "$SRC/tests/support/processes.sh"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start_demo_graphsim

sed "s#@GRAPHSIM@#$GRAPHSIM_URL#g" "$SRC/examples/demo.yaml.in" >"$WORK/demo.yaml"
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
DEMO_CLIENT_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2' \
  "${EXTDATA[@]}" apply -f "$WORK/demo.yaml" >"$WORK/apply.log" 2>&1 || die "extdata apply failed"

start_serve() {  # log name
  : >"$WORK/$1.out"
  "${EXTDATA[@]}" serve --listen 127.0.0.1:0 --anonymous-read --store-tables-from 0 \
    >"$WORK/$1.out" 2>"$WORK/$1.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  EXTDATA_URL=$(listening_url "$WORK/$1.out" "$SERVE_PID")
  [[ -n $EXTDATA_URL ]] || die "extdata serve did not start"
  API=$EXTDATA_URL/api/v1
}
stop_serve() { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
# Waits (bounded, polling) until the option tables stored so far reach $1.
wait_saved() {
  for _ in $(seq 600); do
    [[ $(metric 'extdata_cache_derived_saved_total{source="customers"}') -ge $1 ]] && return 0
    sleep 0.05
  done
  return 1
}
# The answers compared across restarts: options and totals (not the freshness, which ages).
answers() {
  local out=""
  for query in "q=priya&limit=5" "limit=3" "limit=3&offset=20"; do
    curl -sS -o "$WORK/a.json" "$API/fields/account_manager/options?$query"
    out+="am $query $(j "$WORK/a.json" '[j.total, j.options]')"$'\n'
  done
  curl -sS -o "$WORK/a.json" "$API/fields/account_manager/value?key=2"
  out+="am value $(j "$WORK/a.json" '[j.found, j.label]')"$'\n'
  for query in "q=muller&limit=5" "limit=5" "limit=5&offset=55" "q=gmbh&limit=2" "q=cafe%20ole"; do
    curl -sS -o "$WORK/a.json" "$API/fields/customer/options?$query"
    out+="$query $(j "$WORK/a.json" '[j.total, j.options]')"$'\n'
  done
  curl -sS -o "$WORK/a.json" "$API/fields/customer/value?key=2"
  out+="value $(j "$WORK/a.json" '[j.found, j.label, j.data]')"
  printf '%s' "$out"
}
LOADED='extdata_fields_tables_loaded_total{field="customer"}'
LOADED_AM='extdata_fields_tables_loaded_total{field="account_manager"}'
REJECTED='extdata_fields_tables_rejected_total{field="customer",reason="checksum"}'
REJECTED_AM='extdata_fields_tables_rejected_total{field="account_manager",reason="checksum"}'

section "1. first start: the table is built from the fetched records and stored"
start_serve serve1
before=$(answers)
expect_match "the answers have options" "$before" 'Müller Präzisionstechnik GmbH'
expect_match "  ... of both fields" "$before" 'am value \[true,"Priya'
wait_saved 2 || fail "the tables are stored in the background" "extdata_cache_derived_saved_total < 2"
expect_eq "both tables were stored once (customers' key is kept)" \
  "$(metric 'extdata_cache_derived_saved_total{source="customers"}')" 2
expect_eq "built tables are not counted as loaded" "$(metric "$LOADED") $(metric "$LOADED_AM")" "0 0"
stop_serve
kill "$GRAPHSIM_PID"
wait "$GRAPHSIM_PID" 2>/dev/null
expect_eq "one stored table row per field beside the snapshot" \
  "$(sqlite3 "$WORK/data/extdata.db" "SELECT key LIKE '%#field:account_manager' FROM snapshots WHERE key LIKE 'derived:customers#%' ORDER BY 1" | paste -sd,)" "0,1"

section "2. restart, graphsim stopped: the stored table answers"
start_serve serve2
expect_eq "search, pages and value: the same answers as before the restart" "$(answers)" "$before"
expect_eq "both tables were loaded, not rebuilt" "$(metric "$LOADED") $(metric "$LOADED_AM")" "1 1"
expect_eq "nothing rejected" "$(metric "$REJECTED") $(metric "$REJECTED_AM")" "0 0"
expect_eq "no upstream fetch" "$(metric 'extdata_cache_refreshes_total{source="customers"}')" 0
stop_serve

section "3. a flipped byte in the stored table: refused, rebuilt, stored again"
sqlite3 "$WORK/data/extdata.db" "UPDATE snapshot_chunks SET data = substr(data, 1, 100) ||
  CASE WHEN substr(data, 101, 1) = X'00' THEN X'01' ELSE X'00' END || substr(data, 102)
  WHERE key LIKE 'derived:%'" || die "could not damage the stored table"
start_serve serve3
expect_eq "the same answers, from a rebuilt table" "$(answers)" "$before"
expect_eq "the damaged tables were not loaded" "$(metric "$LOADED") $(metric "$LOADED_AM")" "0 0"
expect_eq "each was rejected once, by its checksum" "$(metric "$REJECTED") $(metric "$REJECTED_AM")" "1 1"
expect_match "the log says so" "$(cat "$WORK/serve3.log")" 'fields.table_image_rejected'
wait_saved 2 || fail "the rebuilt tables are stored again" "extdata_cache_derived_saved_total < 2"
stop_serve
start_serve serve4
expect_eq "after the next restart the re-stored table answers" "$(answers)" "$before"
expect_eq "  ... both loaded" "$(metric "$LOADED") $(metric "$LOADED_AM")" "1 1"
stop_serve

finish
