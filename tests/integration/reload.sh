#!/usr/bin/env bash
# Issue 19, item 2: `systemctl reload extdata` is SIGHUP, and SIGHUP re-reads the operator
# settings file (EXTDATA_SETTINGS_FILE) without a restart: a host the network policy refused is
# allowed after the reload, an invalid file changes nothing and says which line, and the same
# process keeps serving throughout. The upstream is a second extdata server (its /healthz).
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-reload.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

. "$EXTDATA_SOURCE_DIR/tests/support/checks.sh"

start_serve() {  # name → $URL, $SERVE_PID
  "$EXTDATA_BIN" --data "$WORK/$1" serve --listen 127.0.0.1:0 >"$WORK/$1.out" 2>"$WORK/$1.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  URL=""
  for _ in $(seq 400); do
    URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/$1.out" | head -1)
    [[ -n $URL ]] && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $URL ]] || die "serve $1 did not start"
}
wait_for_log() {  # file count-before pattern: waits until the pattern occurs more often
  for _ in $(seq 200); do
    [[ $(grep -c "$3" "$1") -gt $2 ]] && return 0
    sleep 0.05
  done
  return 1
}

unset EXTDATA_ALLOW_HOSTS  # the tests' default (127.0.0.1) would allow the upstream from the start
"$EXTDATA_BIN" --data "$WORK/upstream" init >/dev/null 2>&1 || die "init failed"
EXTDATA_ALLOW_HOSTS=127.0.0.1 start_serve upstream
UPSTREAM=$URL

SETTINGS=$WORK/extdata.env
printf '# operator settings\nEXTDATA_LOG_LEVEL=info\n' >"$SETTINGS"
printf 'sources:\n  - {name: up, type: rest, url: "%s/healthz"}\n' "$UPSTREAM" >"$WORK/config.yaml"
X=("$EXTDATA_BIN" --data "$WORK/main")
"${X[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
ADMIN=$("${X[@]}" token create --role admin --label reload 2>/dev/null) || die "token create failed"
EXTDATA_SETTINGS_FILE=$SETTINGS start_serve main
MAIN_PID=$SERVE_PID
source_test() { curl -sS -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/v1/sources/up/test"; }

expect_eq "before the reload: 127.0.0.1 is refused (network.blocked)" "$(source_test | code_of)" "network.blocked"

printf 'EXTDATA_ALLOW_HOSTS="127.0.0.1"\nEXTDATA_LOG_LEVEL=info\n' >"$SETTINGS"
before=$(grep -c reloaded "$WORK/main.log")
kill -HUP "$MAIN_PID"
wait_for_log "$WORK/main.log" "$before" reloaded || fail "the reload is logged" "no 'reloaded' in the log"
expect_match "SIGHUP: the log says what is in force" "$(grep reloaded "$WORK/main.log" | tail -1)" "allowed hosts: 127.0.0.1"
expect_match "after the reload: the source test reaches the upstream" "$(source_test)" '"ok": *true'
expect_eq "  ... answered by the same process" "$(kill -0 "$MAIN_PID" && echo alive)" "alive"

printf 'EXTDATA_ALLOW_HOSTS=127.0.0.1\nthis line is not a setting\n' >"$SETTINGS"
before=$(grep -c "reload failed" "$WORK/main.log")
kill -HUP "$MAIN_PID"
wait_for_log "$WORK/main.log" "$before" "reload failed" || fail "a bad file is logged" "no 'reload failed'"
expect_match "an invalid file: the error names the line" "$(grep 'reload failed' "$WORK/main.log" | tail -1)" "extdata.env:2: expected VARIABLE=VALUE"
expect_match "  ... and the settings in force stay" "$(source_test)" '"ok": *true'

printf 'EXTDATA_LISTEN=127.0.0.1:9\n' >"$SETTINGS"
before=$(grep -c reloaded "$WORK/main.log")
kill -HUP "$MAIN_PID"
wait_for_log "$WORK/main.log" "$before" reloaded || fail "the reload is logged" "no 'reloaded'"
expect_match "a changed listen address is named as needing a restart" \
  "$(grep reloaded "$WORK/main.log" | tail -1)" "EXTDATA_LISTEN changed to 127.0.0.1:9: takes effect after a restart"
expect_eq "  ... and the allow list of the file (none now) is in force" "$(source_test | code_of)" "network.blocked"

source_test >"$WORK/last_test.json"; cp "$WORK/main.log" "$WORK/keep.log"
kill -TERM "$MAIN_PID"
wait "$MAIN_PID" 2>/dev/null
expect_eq "SIGTERM still stops the server (exit 0)" "$?" "0"

finish
