#!/usr/bin/env bash
# The wizard's SQL explorer end to end (tests/e2e/sql_wizard.mjs): `extdata serve` with a files
# root holding an SQLite database, Debian's Chromium driven by playwright-core through the sql
# form: Find tables → choose a table → tick columns → Use this query → Save and test. The
# saved-source routes (GET …/sql/tables, …/sql/columns) are checked with the same server.
# Screenshots go to artifacts/e2e (git-ignored): sql-wizard.png is the one to look at.
set -euo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
unset EXTDATA_DATA EXTDATA_FILES_ROOT

fail_setup() {
  echo "FAIL: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}
[[ -d "$SRC/tests/node/node_modules/playwright-core" ]] ||
  fail_setup "playwright-core is not installed in tests/node; run scripts/install-deps"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || fail_setup "$CHROMIUM not found; run scripts/install-deps (Debian package chromium)"
command -v sqlite3 >/dev/null || fail_setup "sqlite3 is required (scripts/install-deps)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-e2e-sql.XXXXXX")
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && { kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# A customer table whose names need quoting (a capital, an accent, a space), NULLs, and a view.
mkdir -p "$WORK/files"
sqlite3 "$WORK/files/crm.db" <<'SQL'
CREATE TABLE "Kunden" (id INTEGER PRIMARY KEY, "Name" TEXT NOT NULL, "Straße" TEXT, land TEXT, "last order" TEXT);
INSERT INTO "Kunden" VALUES (1, 'Zoë Müller', 'Hauptstraße 5', 'DE', '2026-11-30'),
  (2, 'Åsa Öberg', NULL, 'SE', NULL), (3, 'José Núñez', 'Calle Mayor 1', 'ES', '2026-10-02');
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, total REAL);
CREATE VIEW german AS SELECT * FROM "Kunden" WHERE land = 'DE';
SQL

EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
"${EXTDATA[@]}" init >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; fail_setup "extdata init"; }
ADMIN_TOKEN=$("${EXTDATA[@]}" token create --role admin --label e2e-sql 2>/dev/null)
EXTDATA_FILES_ROOT="$WORK/files" "${EXTDATA[@]}" serve --listen 127.0.0.1:0 --web-dir "$SRC/web" \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
EXTDATA_URL=""
for _ in $(seq 400); do
  EXTDATA_URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n "$EXTDATA_URL" ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$EXTDATA_URL" ]] || { cat "$WORK/serve.out" "$WORK/serve.log" >&2; fail_setup "extdata serve did not start"; }

ARTIFACTS_DIR=${ARTIFACTS_DIR:-$SRC/artifacts/e2e}
mkdir -p "$ARTIFACTS_DIR"
status=0
EXTDATA_URL=$EXTDATA_URL EXTDATA_ADMIN_TOKEN=$ADMIN_TOKEN DB_PATH="$WORK/files/crm.db" \
  ARTIFACTS_DIR=$ARTIFACTS_DIR CHROMIUM=$CHROMIUM \
  "$SRC/scripts/node" "$SRC/tests/e2e/sql_wizard.mjs" || status=$?
if ((status != 0)); then
  echo "--- extdata serve log (last 40 lines)" >&2
  tail -n 40 "$WORK/serve.log" >&2 || true
fi
exit $status
