#!/usr/bin/env bash
# Issue 19, item 3 over the real binary: `extdata backup` while a server runs and is being written
# to, `extdata restore` into an empty data directory with the same key, and what restore refuses
# (a data directory with a store, another master key, no key). The restored installation answers
# with the old API token from the restored snapshot, although the upstream file is gone.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-backup.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$EXTDATA_SOURCE_DIR/tests/support/checks.sh"
. "$EXTDATA_SOURCE_DIR/tests/support/processes.sh"
start_serve() {  # data-dir name → $URL
  "$EXTDATA_BIN" --data "$1" serve --listen 127.0.0.1:0 >"$WORK/$2.out" 2>"$WORK/$2.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  URL=$(listening_url "$WORK/$2.out" "$SERVE_PID")
  [[ -n $URL ]] || die "serve ($2) did not start"
}

export EXTDATA_FILES_ROOT=$WORK/files
mkdir -p "$EXTDATA_FILES_ROOT"
printf 'code,name\nDE,Deutschland\nCH,Schweiz\n' >"$EXTDATA_FILES_ROOT/countries.csv"
cat >"$WORK/config.yaml" <<'YAML'
sources:
  - name: countries
    type: file
    path: countries.csv
  - name: crm
    type: rest
    url: https://crm.example.com/api/accounts
    auth: {type: bearer, token: Zq7-backup-secret-NEVER-IN-FILE}
fields:
  - name: country
    source: countries
    value: "{code}"
    label: "{name}"
YAML
DATA=$WORK/data
X=("$EXTDATA_BIN" --data "$DATA")
"${X[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
READER=$("${X[@]}" token create --role reader --label forms 2>/dev/null) || die "token create failed"
ADMIN=$("${X[@]}" token create --role admin --label ops 2>/dev/null) || die "token create failed"

section "backup while the server runs and is written to"
start_serve "$DATA" serve1
curl -sS -H "Authorization: Bearer $READER" "$URL/api/v1/fields/country/options" >"$WORK/o1.json"
curl -sS -H "Authorization: Bearer $READER" "$URL/api/v1/fields/country/options" >"$WORK/o1.json"
expect_eq "served before the backup: 2 options" "$(j "$WORK/o1.json" 'j.total')" "2"
# A writer changes the field over and over through the API while the backup is taken.
(
  i=0
  while true; do
    i=$((i + 1))
    curl -sS -o /dev/null -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
      --data "{\"source\":\"countries\",\"value\":\"{code}\",\"label\":\"{name} ($i)\"}" \
      "$URL/api/v1/fields/country"
  done
) &
WRITER=$!
PIDS+=("$WRITER")
out=$("${X[@]}" backup "$WORK/backup.db" 2>&1)
status=$?
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
expect_eq "backup exits 0 while serving" "$status" "0"
expect_match "backup says what it holds" "$out" "2 sources, 1 fields, 1 sealed secrets, 2 API tokens, 1 snapshots"
expect_match "backup says the key is not in it" "$out" "master key is not in the backup"
expect_eq "the backup file is 0600" "$(stat -c %a "$WORK/backup.db")" "600"
expect_eq "neither the key nor the secret is in the file" \
  "$(grep -c -a -e "$(cat "$DATA/master.key")" -e Zq7-backup-secret "$WORK/backup.db")" "0"
out=$("${X[@]}" backup "$WORK/backup.db" 2>&1; echo "exit=$?")
expect_match "a second backup to the same file is refused without --force" "$out" "exists already.*--force.*exit=1"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

section "restore refuses what it must"
out=$("${X[@]}" restore "$WORK/backup.db" 2>&1; echo "exit=$?")
expect_match "into a data directory with a store → store.restore_not_empty" "$out" "has a store already.*exit=1"
mkdir -p "$WORK/nokey"
out=$("$EXTDATA_BIN" --data "$WORK/nokey" restore "$WORK/backup.db" 2>&1; echo "exit=$?")
expect_match "without the master key → says which key is needed" "$out" "needs the master key the backup was made with"
expect_eq "  ... and makes no key and no store" "$(ls "$WORK/nokey")" ""
mkdir -p "$WORK/otherkey" && printf '%064d\n' 7 >"$WORK/otherkey/master.key" && chmod 600 "$WORK/otherkey/master.key"
out=$("$EXTDATA_BIN" --data "$WORK/otherkey" restore "$WORK/backup.db" 2>&1; echo "exit=$?")
expect_match "with another master key → store.backup_key_mismatch" "$out" "made with another master key.*exit=1"
expect_eq "  ... and writes no store" "$(ls "$WORK/otherkey")" "master.key"

section "restore into an empty data directory with the key"
RESTORED=$WORK/restored
install -d -m 0700 "$RESTORED" && install -m 0600 "$DATA/master.key" "$RESTORED/master.key"
out=$("$EXTDATA_BIN" --data "$RESTORED" restore "$WORK/backup.db" 2>&1)
expect_match "restore → what it restored" "$out" "Restored .* 2 sources, 1 fields"
rm "$EXTDATA_FILES_ROOT/countries.csv"  # the upstream is gone: only the snapshot can answer
start_serve "$RESTORED" serve2
curl -sS -H "Authorization: Bearer $READER" "$URL/api/v1/fields/country/options" >"$WORK/o2.json"
expect_eq "the old reader token works, options come from the restored snapshot" \
  "$(j "$WORK/o2.json" '[j.total, j.options.map(o => o.value).join(",")]')" '[2,"DE,CH"]'
"$EXTDATA_BIN" --data "$RESTORED" --output json source show crm >"$WORK/crm.json" 2>&1
expect_eq "the sealed secret is restored (shown only as set)" "$(j "$WORK/crm.json" 'j.auth.token')" '{"set":true}'

finish
