#!/usr/bin/env bash
# Issue 15 over the real binary: the reproductions of rows 1, 2, 8, 9 and 12 against
# `extdata serve` (127.0.0.1 port 0, --anonymous-read, a web dir with a sibling "web-private")
# and the CLI. After the server rows, the same server process must still answer /healthz.
# Payloads are built with printf/head, requests sent with curl, raw targets with bash's
# /dev/tcp (curl would normalise them). No upstream is contacted: every refused request is
# refused before any fetch.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-limits.XXXXXX")
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
  rm -rf "$WORK"
}
trap cleanup EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:300} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:300} | want match: $3"; fi; }
section() { printf '\n== %s\n' "$1"; }
die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  echo "0 passed, 1 failed"
  exit 1
}

BODY=$WORK/body
# http METHOD PATH TOKEN [curl args]: body → $BODY, status → $CODE
http() {
  local method=$1 path=$2 token=$3
  shift 3
  local auth=()
  [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
  CODE=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$URL$path") || CODE=000
}
# post_file METHOD PATH TOKEN FILE
post_file() { http "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "@$4"; }
alive() {
  http GET /healthz ""
  expect_eq "$1: the server still answers /healthz" "$CODE $(cat "$BODY")" '200 {"status":"ok"}'
}
deep() { printf '%*s' "$1" '' | tr ' ' '['; printf '%*s' "$1" '' | tr ' ' ']'; }
code_of() { sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$BODY" | head -1; }

# ------------------------------------------------------------------ set-up
X=("$EXTDATA_BIN" --data "$WORK/data")
cat >"$WORK/config.yaml" <<'YAML'
sources:
  - name: crm
    type: rest
    url: http://127.0.0.1:9/customers
    records: $.items[*]
fields:
  - name: customer
    source: crm
YAML
"${X[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
ADMIN=$("${X[@]}" token create --role admin --label limits 2>/dev/null) || die "token create failed"
mkdir -p "$WORK/web/demo" "$WORK/web-private"
echo '<html>admin</html>' >"$WORK/web/index.html"
echo '<html>form</html>' >"$WORK/web/demo/form.html"
echo 'do-not-serve' >"$WORK/web-private/secret.txt"

"${X[@]}" serve --listen 127.0.0.1:0 --anonymous-read --web-dir "$WORK/web" \
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
PORT=${URL##*:}

# ------------------------------------------------------------------ row 1
section "row 1: a 100,000-deep context from an anonymous reader"
{ printf '{"q":"mu","context":{"x":'; deep 100000; printf '}}'; } >"$WORK/row1.json"
post_file POST /api/v1/fields/customer/options "" "$WORK/row1.json"
expect_eq "→ 400 api.json_too_deep" "$CODE $(code_of)" "400 api.json_too_deep"
expect_match "  ... the hint names the limit and how to raise it" "$(cat "$BODY")" \
  'json_max_depth.*--max-json-depth.*EXTDATA_MAX_JSON_DEPTH'
alive "row 1"

# ------------------------------------------------------------------ row 2
section "row 2: deep JSON in admin bodies, a 60,000-character URL, an unclosed \${env:"
{ printf '{"type":"rest","a":'; deep 100000; printf '}'; } >"$WORK/put.json"
post_file PUT /api/v1/sources/x "$ADMIN" "$WORK/put.json"
expect_eq "PUT /sources/x → 400 api.json_too_deep" "$CODE $(code_of)" "400 api.json_too_deep"
{ printf '{"variables":{"v":'; deep 100000; printf '}}'; } >"$WORK/vars.json"
post_file POST /api/v1/sources/crm/test "$ADMIN" "$WORK/vars.json"
expect_eq "POST /sources/crm/test → 400" "$CODE $(code_of)" "400 api.json_too_deep"
{ printf '{"source":{"type":"rest","url":"https://a.example.com/"},"variables":'; deep 100000; printf '}'; } >"$WORK/draft.json"
post_file POST /api/v1/draft/test "$ADMIN" "$WORK/draft.json"
expect_eq "POST /draft/test → 400" "$CODE $(code_of)" "400 api.json_too_deep"
post_file POST /api/v1/draft/authenticate "$ADMIN" "$WORK/draft.json"
expect_eq "POST /draft/authenticate → 400" "$CODE $(code_of)" "400 api.json_too_deep"
{ printf '{"type":"rest","records":"$","url":"https://api.example.com/'; head -c 60000 /dev/zero | tr '\0' a; printf '"}'; } >"$WORK/url.json"
post_file PUT /api/v1/sources/long "$ADMIN" "$WORK/url.json"
expect_eq "PUT a 60,000-character URL → 201" "$CODE" 201
{ printf '{"type":"rest","url":"https://a.example.com/","description":"${env:'; head -c 500000 /dev/zero | tr '\0' x; printf '"}'; } >"$WORK/env.json"
post_file PUT /api/v1/sources/envref "$ADMIN" "$WORK/env.json"
expect_match "PUT an unclosed \${env: of 500 KB → an answer, not a crash" "$CODE" '^(201|400)$'
alive "row 2"

# ------------------------------------------------------------------ row 9
section "row 9: request targets and static files"
raw() {  # raw request line → first line of the answer, and the whole answer in $WORK/raw
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" >&3
  cat <&3 >"$WORK/raw"
  exec 3<&-
  head -1 "$WORK/raw" | tr -d '\r'
}
expect_eq "GET -private/secret.txt → 400" "$(raw 'GET -private/secret.txt')" "HTTP/1.1 400 Bad Request"
expect_eq "  ... the sibling's file is not in the answer" "$(grep -c do-not-serve "$WORK/raw")" 0
expect_eq "GET /index.html%00.js → 400" "$(raw 'GET /index.html%00.js')" "HTTP/1.1 400 Bad Request"
http GET /demo ""
expect_eq "GET /demo (no index.html) → 404" "$CODE" 404
http GET /demo/ ""
expect_eq "GET /demo/ → 404" "$CODE" 404
http GET /demo/form ""
expect_eq "GET /demo/form → the form" "$CODE $(cat "$BODY")" "200 <html>form</html>"
alive "row 9"

# ------------------------------------------------------------------ row 12
section "row 12: auth scheme, store files, reader errors, a lost master.key"
CODE=$(curl -sS -o "$BODY" -w '%{http_code}' -H "Authorization: bearer $ADMIN" "$URL/api/v1/sources")
expect_eq "Authorization: bearer (lower case) → 200" "$CODE" 200
for f in extdata.db extdata.db-wal extdata.db-shm; do
  expect_eq "$f is 0600" "$(stat -c %a "$WORK/data/$f" 2>/dev/null)" 600
done
http GET "/api/v1/fields/customer/options?q=a" ""
expect_match "anonymous options with the upstream down → an error with a code" "$CODE $(code_of)" '^5[0-9][0-9] [a-z]+\.'
expect_eq "anonymous error: no upstream details, no upstream URL" \
  "$(grep -c -e '"upstream":{[^}]' -e '127.0.0.1:9' "$BODY")" 0
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=""
mv "$WORK/data/master.key" "$WORK/master.key.bak"
"${X[@]}" source list >"$WORK/nokey.out" 2>&1
rc=$?
expect_eq "a store without master.key → exit 1" "$rc" 1
expect_match "  ... saying to restore the key" "$(cat "$WORK/nokey.out")" 'Restore master.key'
expect_eq "  ... and no new key was written" "$([[ -e $WORK/data/master.key ]] && echo made || echo none)" none
mv "$WORK/master.key.bak" "$WORK/data/master.key"

# ------------------------------------------------------------------ row 8
section "row 8: hostile config files at validate"
validate() {  # file → "exit-code first-line"
  timeout 20 "$EXTDATA_BIN" validate "$1" >"$WORK/validate.out" 2>&1
  echo "$? $(head -1 "$WORK/validate.out")"
}
{
  echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
  prev=a
  for c in b c d e f g h i; do
    printf '%s: &%s [' "$c" "$c"
    for k in 1 2 3 4 5 6 7 8 9; do printf '*%s%s' "$prev" "$([[ $k -lt 9 ]] && echo ', ')"; done
    echo ']'
    prev=$c
  done
} >"$WORK/laughs.yaml"
expect_match "billion laughs → refused by config_max_nodes" "$(validate "$WORK/laughs.yaml")" '^1 .*more than 100000 nodes'
printf 'sources: &s\n  - *s\n' >"$WORK/self.yaml"
expect_match "self-referencing alias → an error, not SIGSEGV" "$(validate "$WORK/self.yaml")" '^1 .*line 2.*self-reference'
base='sources:\n  - name: s1\n    type: rest\n    url: https://api.example.com/items\n    records: $.items[*]\n'
{ printf "$base" | sed "s#items\$#$(head -c 50000 /dev/zero | tr '\0' a)#"; } >"$WORK/url.yaml"
expect_eq "a 50 KB URL → valid" "$(validate "$WORK/url.yaml" | cut -c1)" 0
{ printf "$base"; printf '    description: caf\xc3\n'; } >"$WORK/utf8.yaml"
expect_match "invalid UTF-8 → refused at validate, naming its line" "$(validate "$WORK/utf8.yaml")" '^1 .*line 6.*UTF-8'
{ printf "$base"; printf '    name: s2\n'; } >"$WORK/dup.yaml"
expect_match "duplicate key → an error with its line" "$(validate "$WORK/dup.yaml")" "^1 .*line 6.*'name' appears twice"
{ printf "$base"; printf -- '---\nsources: []\n'; } >"$WORK/docs.yaml"
expect_match "a second document → an error" "$(validate "$WORK/docs.yaml")" '^1 .*second document'
{ printf "$base"; printf "    description: "; deep 100; echo; } >"$WORK/deep.yaml"
expect_match "deep nesting → says what and where" "$(validate "$WORK/deep.yaml")" '^1 .*line 6.*deeper than 64'
expect_match "  ... and the limit is an operator setting" \
  "$(EXTDATA_MAX_CONFIG_DEPTH=200 timeout 20 "$EXTDATA_BIN" validate "$WORK/deep.yaml" 2>&1 | head -1)" \
  'description'

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
