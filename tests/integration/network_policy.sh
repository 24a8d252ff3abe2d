#!/usr/bin/env bash
# Issue 15, rows 3, 4 and 5 over the real binary: the network policy refuses a source pointed at
# the cloud metadata address at once (network.blocked, no retries) and one pointed at extdata's
# own server; --allow-host entries are checked; validate refuses variables in a URL's origin.
# The refused connections are never opened, so no upstream is needed and nothing here leaves
# the machine.
set -uo pipefail
: "${EXTDATA_BIN:?}"
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-network.XXXXXX")
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
  rm -rf "$WORK"
}
trap cleanup EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want match: $3"; fi; }
section() { printf '\n== %s\n' "$1"; }
code_of() { sed -n 's/.*"code": *"\([^"]*\)".*/\1/p' | head -1; }

# The tests' environment allows 127.0.0.1 (CMakeLists.txt); this script sets its own.
unset EXTDATA_ALLOW_HOSTS
X=("$EXTDATA_BIN" --data "$WORK/data")

cat >"$WORK/config.yaml" <<'YAML'
sources:
  - name: metadata
    type: rest
    url: http://169.254.169.254/latest/meta-data/iam/security-credentials/
    auth: {type: bearer, token: not-for-the-metadata-service}
  - name: decimal
    type: rest
    url: http://2852039166/latest/meta-data/
  - name: mapped
    type: rest
    url: http://[::ffff:a9fe:a9fe]/latest/meta-data/
  - name: private
    type: rest
    url: http://10.0.0.1/
  - name: unique_local
    type: rest
    url: http://[fd00:ec2::254]/
YAML
"${X[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 ||
  { cat "$WORK/apply.log"; echo "0 passed, 1 failed"; exit 1; }

section "row 4: sources pointed at blocked addresses fail at once with network.blocked"
for source in metadata decimal mapped private unique_local; do
  out=$(timeout 20 "${X[@]}" --output json source test "$source" 2>/dev/null)
  status=$?
  expect_eq "$source: network.blocked (exit $status)" "$(code_of <<<"$out")" "network.blocked"
  # Before, four attempts with backoff; a refused address is never retried, nor waited for.
  expect_eq "$source: one attempt" "$(sed -n 's/.*"attempts": *\([0-9]*\).*/\1/p' <<<"$out" | head -1)" "1"
  ms=$(sed -n 's/.*"elapsed_ms": *\([0-9]*\).*/\1/p' <<<"$out" | head -1)
  if [[ -n $ms ]] && ((ms < 1000)); then pass "$source: refused in $ms ms"; else fail "$source: at once" "elapsed_ms: $ms"; fi
done
out=$(timeout 20 "${X[@]}" source test metadata 2>&1)
expect_match "the message names the address and how to allow it" "$out" \
  "169\.254\.169\.254.*link-local.*--allow-host"

section "--allow-host and EXTDATA_ALLOW_HOSTS are checked"
out=$(timeout 20 "${X[@]}" --allow-host 'http://bad/' source test metadata 2>&1)
status=$?
expect_eq "an invalid --allow-host entry is a usage error (exit 2)" "$status" "2"
expect_match "which names the entry" "$out" "http://bad/"
out=$(EXTDATA_ALLOW_HOSTS='10.0.0.0/33' timeout 20 "${X[@]}" source test metadata 2>&1)
expect_match "an invalid EXTDATA_ALLOW_HOSTS entry is refused too" "$out" "10\.0\.0\.0/33"
# Allowed: the policy lets the connection be attempted (nothing listens on 127.0.0.1:9).
cat >"$WORK/local.yaml" <<'YAML'
sources:
  - name: local
    type: rest
    url: http://127.0.0.1:9/records
YAML
"${X[@]}" apply -f "$WORK/local.yaml" >/dev/null 2>&1
out=$(timeout 60 "${X[@]}" --output json source test local 2>&1)
expect_eq "127.0.0.1 is refused by default" "$(code_of <<<"$out")" "network.blocked"
out=$(timeout 60 "${X[@]}" --allow-host 127.0.0.1:9 --output json source test local 2>&1)
expect_eq "and reached with --allow-host 127.0.0.1:9 (connection refused there)" \
  "$(code_of <<<"$out")" "http.connect"

section "row 3: validate refuses variables in the scheme, host or port"
cat >"$WORK/origin.yaml" <<'YAML'
sources:
  - name: fcp
    type: rest
    url: http://127.0.0.1:18801{+path}
    auth: {type: bearer, token: t}
YAML
out=$("$EXTDATA_BIN" validate "$WORK/origin.yaml" 2>&1)
status=$?
expect_eq "validate fails" "$status" "1"
expect_match "naming the key and the rule" "$out" "sources\[0\]\.url.*scheme, host or port"

section "own listen address: a source calling extdata's own server is refused"
"${X[@]}" token create --role admin --label network >"$WORK/token" 2>/dev/null
"${X[@]}" --allow-host 127.0.0.1 serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
URL=
for _ in $(seq 1 200); do
  URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $URL ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -z $URL ]]; then
  fail "serve starts" "$(cat "$WORK/serve.log")"
else
  curl -sS -o "$WORK/put.json" -X PUT -H "Authorization: Bearer $(cat "$WORK/token")" \
    -H 'Content-Type: application/json' \
    --data "{\"type\":\"rest\",\"url\":\"$URL/api/v1/sources\"}" "$URL/api/v1/sources/self" >/dev/null
  out=$(curl -sS -X POST -H "Authorization: Bearer $(cat "$WORK/token")" \
    -H 'Content-Type: application/json' --data '{}' "$URL/api/v1/sources/self/test")
  expect_eq "POST /sources/self/test: network.blocked" "$(code_of <<<"$out")" "network.blocked"
  expect_match "naming extdata's own listen address" "$out" "own listen address"
  expect_eq "the server still answers /healthz" "$(curl -sS "$URL/healthz")" '{"status":"ok"}'
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
