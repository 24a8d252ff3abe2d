#!/usr/bin/env bash
# Issue 17, item 2 over the real binary: `type: file` under a files root — the worked example of
# docs/files.md, a CSV rewritten while it is served (in place, and by rename), a path outside
# the root, a symbolic link escaping it, no root at all. The refreshes are forced through the API
# (POST /sources/NAME/refresh), so nothing waits for a TTL.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
command -v curl >/dev/null || { echo "FAIL: curl not found"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-files.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$EXTDATA_SOURCE_DIR/tests/support/checks.sh"

ROOT=$WORK/files
OUTSIDE=$WORK/outside
mkdir -p "$ROOT/catalogue" "$OUTSIDE"
printf 'SKU;Name;Price\nA-100;Schraube M4 (Edelstahl);0.12\nB-200;Dübel 6 mm;0.05\n' \
  >"$ROOT/catalogue/products.csv"
printf 'id,name\n1,the master key\n' >"$OUTSIDE/secret.csv"
X=("$EXTDATA_BIN" --data "$WORK/data")

section "docs/files.md worked example"
cat >"$WORK/products.yaml" <<'YAML'
sources:
  - name: products
    type: file
    path: catalogue/products.csv
    delimiter: ";"
    columns: {sku: SKU, name: Name, price: Price}
fields:
  - name: product
    source: products
    value: "{sku}"
    label: "{name} ({sku})"
YAML
export EXTDATA_FILES_ROOT=$ROOT
"${X[@]}" init >"$WORK/init.log" 2>&1 || die "init failed"
"${X[@]}" apply -f "$WORK/products.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
out=$("${X[@]}" source test products 2>&1)
expect_match "source test: the read, with its size" "$out" "read 73 bytes \(modified [0-9T:Z-]+\)"
expect_match "source test: columns and first records" "$out" "columns: name price sku"
expect_match "source test: OK" "$out" "OK"
out=$("${X[@]}" field options product --q dübel 2>&1)
expect_match "field options --q dübel → B-200" "$out" "B-200.*Dübel 6 mm \(B-200\)"

section "bad paths are refused at validate time, nothing stored"
bad() {  # name path → the apply output
  printf 'sources:\n  - {name: %s, type: file, path: "%s"}\n' "$1" "$2" >"$WORK/bad.yaml"
  "${X[@]}" apply -f "$WORK/bad.yaml" 2>&1
  echo "exit=$?"
}
out=$(bad outside "$OUTSIDE/secret.csv")
expect_match "absolute path outside the root → file.outside_root, key path" "$out" "outside every files root"
expect_match "  ... exit 1" "$out" "exit=1"
out=$(bad climbing "catalogue/../../outside/secret.csv")
expect_match ".. climbing out → file.outside_root" "$out" "outside every files root"
ln -s "$OUTSIDE/secret.csv" "$ROOT/catalogue/escape.csv"
out=$(bad escaping "catalogue/escape.csv")
expect_match "symlink escaping the root → refused, naming the link target" "$out" "symbolic link to $OUTSIDE/secret.csv"
out=$(EXTDATA_FILES_ROOT= bad noroot "catalogue/products.csv")
expect_match "no files root → file.no_root with how to allow one" "$out" "no files root is configured.*--files-root"
out=$("${X[@]}" source list 2>&1)
expect_eq "none of the refused sources was stored" "$(grep -cE 'outside|climbing|escaping|noroot' <<<"$out")" "0"
out=$("${X[@]}" --files-root relative/dir source list 2>&1; echo "exit=$?")
expect_match "--files-root with a relative directory → usage error, exit 2" "$out" "not an absolute path.*exit=2"

section "a CSV rewritten while it is served"
ADMIN=$("${X[@]}" token create --role admin --label files 2>/dev/null) || die "token create failed"
"${X[@]}" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
URL=""
for _ in $(seq 400); do
  URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n $URL ]] && break
  sleep 0.05
done
[[ -n $URL ]] || die "serve did not start"
API=$URL/api/v1
BODY=$WORK/body.json
http() {  # METHOD PATH → $BODY, $CODE
  CODE=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN" "$API$2") || CODE=000
}
http GET "/fields/product/options?limit=1000"
expect_eq "serve: 2 options from the file" "$(j "$BODY" 'j.total')" "2"

# Published by rename: the next forced refresh reads the new file.
{ printf 'SKU;Name;Price\n'; for i in $(seq 1 50); do printf 'R-%03d;Renamed %d;1\n' "$i" "$i"; done; } >"$ROOT/catalogue/next.csv"
mv "$ROOT/catalogue/next.csv" "$ROOT/catalogue/products.csv"
http POST "/sources/products/refresh"
expect_eq "refresh after a rename → 200" "$CODE" "200"
http GET "/fields/product/options?limit=1000"
expect_eq "  ... the 50 new options" "$(j "$BODY" '[j.total, j.options[0].value]')" '[50,"R-001"]'
http POST "/sources/products/refresh"
expect_eq "metrics: the unchanged file was not parsed again" \
  "$(curl -sS "$URL/metrics" | awk '$1 == "extdata_file_unchanged_total{source=\"products\"}" { print $2 }')" "1"

# Rewritten in place, over and over, by a writer that alternates two versions (4000 rows of A,
# 3000 rows of B), resting a moment after each so that some reads find it settled. Whatever the
# interleaving, every answer is one whole version: never a mix, never a half-read file, never
# empty. (The pauses only vary the interleaving; nothing here depends on their length.)
version() {  # letter rows
  { printf 'SKU;Name;Price\n'; for i in $(seq 1 "$2"); do printf '%s-%05d;Version %s item %d;1\n' "$1" "$i" "$1" "$i"; done; }
}
version A 4000 >"$WORK/A.csv"
version B 3000 >"$WORK/B.csv"
(
  while true; do
    cat "$WORK/A.csv" >"$ROOT/catalogue/products.csv"
    sleep 0.$((RANDOM % 5))
    cat "$WORK/B.csv" >"$ROOT/catalogue/products.csv"
    sleep 0.$((RANDOM % 5))
  done
) &
WRITER=$!
PIDS+=("$WRITER")
mixed=0 whole=0 changing=0 other=""
for _ in $(seq 1 30); do
  http POST "/sources/products/refresh"
  [[ $(j "$BODY" 'JSON.stringify(j)') == *file.changing* ]] && changing=$((changing + 1))
  http GET "/fields/product/options?limit=1"
  state=$(j "$BODY" '`${j.total}:${j.options.length ? j.options[0].value[0] : "-"}`')
  case $state in
    4000:A | 3000:B | 50:R) whole=$((whole + 1)) ;;
    *) mixed=$((mixed + 1)); other="$other $state" ;;
  esac
done
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
expect_eq "30 reads during rewrites: every answer a whole version (total:first)" "$mixed$other" "0"
echo "        ($whole whole answers; $changing refreshes reported file.changing and served the previous version)"
version B 3000 >"$ROOT/catalogue/products.csv"
http POST "/sources/products/refresh"
http GET "/fields/product/options?limit=1"
expect_eq "writer stopped: the last version is served" "$(j "$BODY" '[j.total, j.options[0].value]')" '[3000,"B-00001"]'

finish
