#!/usr/bin/env bash
# Issue 15, row 11: SIGTERM stops `extdata serve` within a bounded time while a request waits
# on an upstream that accepts the connection and never answers (the row's reproduction pointed
# a source at the server's own /test endpoint; a silent upstream hangs the same way). The
# in-flight request is answered (http.cancelled) before the process exits with status 0; a
# request beyond the source's fetch slots is refused at once (source.busy) and the server
# keeps answering /healthz meanwhile.
set -uo pipefail
: "${EXTDATA_BIN:?}"
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-shutdown.XXXXXX")
SERVE_PID="" SILENT_PID="" CLIENT_PID=""
cleanup() {
  for pid in $CLIENT_PID $SERVE_PID $SILENT_PID; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:300} | want: $3"; fi; }
die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  echo "0 passed, 1 failed"
  exit 1
}
# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local limit=$(($1 * 20))
  shift
  for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.05; done
  return 1
}

# The silent upstream: accepts, records each connection, never answers.
python3 -u -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[1], "a") as f:
        f.write("accepted\n")
' "$WORK/accepted" >"$WORK/silent.port" 2>"$WORK/silent.log" &
SILENT_PID=$!
wait_for 10 test -s "$WORK/silent.port" || die "the silent upstream did not start"
SILENT=$(head -1 "$WORK/silent.port")

X=("$EXTDATA_BIN" --data "$WORK/data")
cat >"$WORK/config.yaml" <<YAML
sources:
  - name: silent
    type: rest
    url: http://127.0.0.1:$SILENT/items
    records: \$
    timeout: 5m
fields:
  - name: hangs
    source: silent
YAML
"${X[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
ADMIN=$("${X[@]}" token create --role admin --label shutdown 2>/dev/null) || die "token create failed"

# One fetch slot and a 1 ms wait for it, so a second fetch shows the per-source limit.
EXTDATA_ALLOW_HOSTS=127.0.0.1 "${X[@]}" --source-max-fetches 1 --source-max-queued-fetches 1 \
  --source-fetch-wait-ms 1 serve --listen 127.0.0.1:0 --anonymous-read --workers 4 \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
URL=""
for _ in $(seq 400); do
  URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $URL ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n $URL ]] || die "extdata serve did not start"

curl -sS -o "$WORK/inflight.body" -w '%{http_code}' "$URL/api/v1/fields/hangs/options?q=a" \
  >"$WORK/inflight.code" 2>"$WORK/inflight.log" &
CLIENT_PID=$!
wait_for 20 test -s "$WORK/accepted" || die "the request never reached the silent upstream"
pass "a request is in flight: the silent upstream accepted its connection"

# `source test` fetches outside the record cache: a second fetch of the same source.
CODE=$(curl -sS -o "$WORK/busy.body" -w '%{http_code}' --max-time 20 -X POST \
  -H "Authorization: Bearer $ADMIN" "$URL/api/v1/sources/silent/test" 2>&1)
expect_eq "a second fetch of the same source is refused at once" \
  "$CODE $(grep -o '"code":"[^"]*"' "$WORK/busy.body" | head -1)" '200 "code":"source.busy"'
expect_eq "  ... without reaching the upstream" "$(wc -l <"$WORK/accepted")" "1"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$URL/healthz")
expect_eq "/healthz answers while the upstream hangs" "$CODE" "200"

START=$(date +%s%N)
kill -TERM "$SERVE_PID"
for _ in $(seq 300); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SERVE_PID" 2>/dev/null; then
  fail "SIGTERM stops the server within 15 s" "still running; killing it"
  kill -9 "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null
  STATUS=killed
else
  wait "$SERVE_PID"
  STATUS=$?
  MS=$((($(date +%s%N) - START) / 1000000))
  if ((MS < 15000)); then pass "SIGTERM stops the server within 15 s (took ${MS} ms)"; else
    fail "SIGTERM stops the server within 15 s" "took ${MS} ms"; fi
fi
SERVE_PID=""
expect_eq "  ... with exit status 0" "$STATUS" "0"
wait "$CLIENT_PID" 2>/dev/null
CLIENT_PID=""
expect_eq "the in-flight request was answered: its fetch was cancelled" \
  "$(cat "$WORK/inflight.code") $(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$WORK/inflight.body")" \
  "502 http.cancelled"

echo
echo "$passed passed, $failed failed"
((failed == 0))
