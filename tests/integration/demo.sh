#!/usr/bin/env bash
# `make demo` end to end: scripts/demo (graphsim with the demo fixture, the demo config applied,
# an admin token, `extdata serve`) on a free port, then what its banner tells a user to try.
# Asserts what the server answered and what graphsim was asked (GET /_graphsim/counters).
#
# Env: EXTDATA_BIN, GRAPHSIM_BIN (both in the build folder scripts/demo runs from),
# EXTDATA_SOURCE_DIR (set by ctest). Needs curl and jq.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
unset EXTDATA_DATA DEMO_CLIENT_SECRET

BUILD=$(dirname "$EXTDATA_BIN")
if [[ $(dirname "$GRAPHSIM_BIN") != "$BUILD" ]]; then
  echo "FAIL: extdata and extdata-graphsim must be in one build folder for scripts/demo" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-demo.XXXXXX")
DEMO_PID=
cleanup() {
  # scripts/demo runs in its own process group: stop it and everything it started.
  if [[ -n $DEMO_PID ]]; then
    kill -TERM -- "-$DEMO_PID" 2>/dev/null
    wait "$DEMO_PID" 2>/dev/null
    for _ in $(seq 100); do
      pgrep -g "$DEMO_PID" >/dev/null || break
      sleep 0.05
    done
    kill -KILL -- "-$DEMO_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
check() { # NAME CONDITION-EXIT-CODE DETAIL
  if [[ $2 -eq 0 ]]; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: $3"
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
}

cd "$EXTDATA_SOURCE_DIR" || exit 1
BUILD=$BUILD DEMO_DIR="$WORK/demo" EXTDATA_DEMO_PORT=0 setsid bash scripts/demo \
  >"$WORK/demo.out" 2>&1 &
DEMO_PID=$!
for _ in $(seq 600); do
  grep -q "Press Ctrl-C to stop" "$WORK/demo.out" && break
  kill -0 "$DEMO_PID" 2>/dev/null || break
  sleep 0.05
done
grep -q "Press Ctrl-C to stop" "$WORK/demo.out"
check "the demo starts and prints its banner" $? "$(cat "$WORK/demo.out")"
[[ $failed -eq 0 ]] || finish

URL=$(sed -n 's/^  Admin UI: *\(http[^ ]*\)\/ .*/\1/p' "$WORK/demo.out")
GRAPHSIM=$(sed -n 's/^  Graph simulator: *\(http[^ ]*\) .*/\1/p' "$WORK/demo.out")
TOKEN=$(sed -n 's/^  Admin token: *\([^ ]*\) .*/\1/p' "$WORK/demo.out")
[[ $URL =~ ^http://127\.0\.0\.1:[1-9][0-9]*$ ]]
check "the banner shows the port the server listens on" $? "Admin UI address '$URL'"
[[ -n $GRAPHSIM && -n $TOKEN && $TOKEN == "$(cat "$WORK/demo/admin-token")" ]]
check "the banner shows graphsim and the admin token" $? "graphsim '$GRAPHSIM'"

# The options request from the banner: the first request fetches the list from graphsim.
options=$(curl -sS --fail "$URL/api/v1/fields/customer/options?q=mu&limit=5")
check "field options answer" $? "$options"
labels=$(jq -r '.options[].label' <<<"$options" 2>/dev/null)
grep -q "^Müller Präzisionstechnik GmbH (Stuttgart, Germany)$" <<<"$labels"
check "'mu' finds Müller (accents folded) with the label template applied" $? "$labels"
counters=$(curl -sS --fail "$GRAPHSIM/_graphsim/counters")
[[ $(jq '.token_requests.issued' <<<"$counters") -ge 1 &&
  $(jq '(.graph_requests.by_route.items // 0) + (.graph_requests.by_route.delta // 0)' <<<"$counters") -ge 1 ]]
check "graphsim issued a token and served list items (items or delta)" $? "$counters"

sources=$(curl -sS --fail -H "Authorization: Bearer $TOKEN" "$URL/api/v1/sources")
jq -e '[.. | objects | select(.name? == "customers")] | length > 0' <<<"$sources" >/dev/null
check "the admin token lists the sources" $? "$sources"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/v1/sources")
[[ $status == 401 ]]
check "the sources API needs the token" $? "status $status"

status_json=$("$BUILD/extdata" --data "$WORK/demo/data" --output json source status customers 2>&1)
jq -e '.[0] | .state == "ok" and .records == 60 and (.last_fetch | test("^20[0-9]{2}-[0-9]{2}-[0-9]{2}T"))' \
  <<<"$status_json" >/dev/null
check "source status shows the server's fetch of customers: ok, 60 records, when" $? "$status_json"

form=$(curl -sS --fail "$URL/demo/form")
grep -qi "<form" <<<"$form"
check "the demo form is served" $? "$(head -c 300 <<<"$form")"

test_out=$("$BUILD/extdata" --data "$WORK/demo/data" source test customers 2>&1)
code=$?
[[ $code -eq 0 ]] && grep -q "records" <<<"$test_out"
check "the banner's 'source test customers' passes" $? "exit $code: $test_out"

# The README's tour, every command as written, in a second shell that knows only what
# `. extdata-demo/env` gives it (run from a folder where extdata-demo is the demo's folder).
mkdir -p "$WORK/terminal2"
ln -s "$WORK/demo" "$WORK/terminal2/extdata-demo"
awk '/^## A short tour/{t=1; next} /^## /{t=0} t' README.md |
  awk '/^```sh/{b=1; next} /^```/{b=0} b' | grep -v -e '^\$X serve' >"$WORK/tour.sh"
[[ $(wc -l <"$WORK/tour.sh") -ge 10 ]]
check "the README's tour has its commands" $? "$(cat "$WORK/tour.sh")"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  out=$(cd "$WORK/terminal2" && env -i HOME="$WORK" PATH="$PATH" LANG=C.UTF-8 \
    bash -c ". extdata-demo/env && set -o pipefail && $line" 2>&1)
  code=$?
  [[ $code -eq 0 && -n $out ]]
  check "tour command $n: ${line%%  #*}" $? "exit $code: $(head -c 600 <<<"$out")"
done <"$WORK/tour.sh"

finish
