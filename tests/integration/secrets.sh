#!/usr/bin/env bash
# Issue 15, row 7, from the command line: `extdata apply` resolves ${file:NAME} only inside the
# secrets directory the operator names (--secrets-dir or EXTDATA_SECRETS_DIR), and the
# upstream receives the file's content; '..', absolute paths outside it and symbolic links out
# of it (to the data directory's master.key) are refused and nothing is applied.
set -uo pipefail
: "${EXTDATA_BIN:?}"
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-secrets.XXXXXX")
UPSTREAM_PID=""
cleanup() {
  [[ -n $UPSTREAM_PID ]] && kill "$UPSTREAM_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:300} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want match: $3"; fi; }
die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  echo "0 passed, 1 failed"
  exit 1
}

# An upstream that records the Authorization header of each request and answers [].
python3 -u -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[1], "a") as f:
            f.write(self.headers.get("Authorization", "") + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_port, flush=True)
s.serve_forever()
' "$WORK/received" >"$WORK/upstream.port" 2>"$WORK/upstream.log" &
UPSTREAM_PID=$!
for _ in $(seq 200); do [[ -s $WORK/upstream.port ]] && break; sleep 0.05; done
PORT=$(head -1 "$WORK/upstream.port")
[[ -n $PORT ]] || die "the upstream did not start"

X=("$EXTDATA_BIN" --data "$WORK/data")
mkdir -p "$WORK/secrets/nested"
printf 'tok-from-secrets-dir\n' >"$WORK/secrets/nested/token"
"${X[@]}" init >/dev/null 2>&1 || die "the store could not be created"
[[ -s $WORK/data/master.key ]] || die "no master.key in the data directory"
ln -s "$WORK/data/master.key" "$WORK/secrets/escape"

config() {
  cat >"$WORK/config.yaml" <<YAML
sources:
  - name: s
    type: rest
    url: http://127.0.0.1:$PORT/items
    records: \$
    auth: {type: bearer, token: "$1"}
YAML
}
# apply_with REFERENCE [extdata global options]: output → $OUT, exit status → $STATUS
apply_with() {
  config "$1"
  shift
  OUT=$(EXTDATA_ALLOW_HOSTS=127.0.0.1 "${X[@]}" "$@" apply -f "$WORK/config.yaml" 2>&1)
  STATUS=$?
}

apply_with '${file:nested/token}'
expect_eq "without a secrets directory \${file:} is refused" "$STATUS" "1"
expect_match "  ... with a hint to set it" "$OUT" 'needs a secrets directory.*--secrets-dir DIR \(or EXTDATA_SECRETS_DIR=DIR\)'
expect_match "  ... and nothing is applied" "$("${X[@]}" source list 2>&1)" '^[Nn]o sources'

for ref in '${file:../data/master.key}' "\${file:$WORK/data/master.key}" '${file:escape}'; do
  apply_with "$ref" --secrets-dir "$WORK/secrets"
  expect_eq "$ref is refused" "$STATUS" "1"
  expect_match "  ... naming the key and why" "$OUT" \
    "sources\[0\]\.auth\.token \(line 6\): .*(is not allowed|is outside the secrets directory)"
  [[ $OUT != *"$(cat "$WORK/data/master.key")"* ]]
  expect_eq "  ... without showing the key" "$?" "0"
done
expect_match "nothing was applied" "$("${X[@]}" source list 2>&1)" '^[Nn]o sources'

apply_with '${file:nested/token}' --secrets-dir "$WORK/secrets"
expect_eq "a file inside --secrets-dir is applied" "$STATUS" "0"
config '${file:nested/token}'
OUT=$(EXTDATA_SECRETS_DIR=$WORK/secrets EXTDATA_ALLOW_HOSTS=127.0.0.1 "${X[@]}" validate "$WORK/config.yaml" 2>&1)
expect_eq "EXTDATA_SECRETS_DIR works as the flag does" "$?" "0"
EXTDATA_ALLOW_HOSTS=127.0.0.1 "${X[@]}" source test s >"$WORK/test.log" 2>&1
expect_eq "source test reaches the upstream" "$?" "0"
expect_eq "the upstream received the file's content" "$(tail -1 "$WORK/received")" "Bearer tok-from-secrets-dir"

echo
echo "$passed passed, $failed failed"
((failed == 0))
