#!/usr/bin/env bash
# `extdata validate` and `extdata apply` over the real binary: apply says per item created,
# updated or unchanged (text and --output json, the same shape as validate's), --dry-run shows
# the keys that would change and writes nothing, secrets never appear in any output, and
# `apply FILE` takes the file as `validate FILE` does (`apply -f FILE` still works).
# No upstream is contacted: apply checks and stores, it does not fetch.
set -uo pipefail
: "${EXTDATA_BIN:?}"
command -v jq >/dev/null || { echo "FAIL: jq not found"; echo "0 passed, 1 failed"; exit 1; }
unset EXTDATA_DATA EXTDATA_MASTER_KEY

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-apply.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:600} | want: $3"; fi; }
expect_has() { if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1" "got: ${2:0:600} | want to contain: $3"; fi; }
expect_lacks() { if [[ $2 != *"$3"* ]]; then pass "$1"; else fail "$1" "found '$3' in: ${2:0:600}"; fi; }
section() { printf '\n== %s\n' "$1"; }

X=("$EXTDATA_BIN" --data "$WORK/data")
# run ARGS...: stdout → $OUT, stderr → $ERR, exit code → $RC
run() {
  "${X[@]}" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

OLD_SECRET='Old7Q~apply-test-secret-value-0001'
NEW_SECRET='New8Q~apply-test-secret-value-0002'
# config LIST LABEL: a SharePoint source (its client secret from the environment) and a field.
config() {
  cat <<YAML
sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: \${env:APPLY_TEST_SECRET}
    site: https://contoso.sharepoint.com/sites/Sales
    list: $1
fields:
  - name: customer
    source: customers
    label: "$2"
YAML
}
config Customers '{fields.Title}' >"$WORK/v1.yaml"
config Countries '{fields.Title} ({fields.Country})' >"$WORK/v2.yaml"
export APPLY_TEST_SECRET=$OLD_SECRET

section "validate and apply print one JSON shape"
run --output json validate "$WORK/v1.yaml"
expect_eq "validate exits 0" "$RC" 0
expect_eq "validate: ok, file, sources and fields as objects" \
  "$(jq -c '{ok, file, sources, fields}' <<<"$OUT")" \
  "{\"ok\":true,\"file\":\"$WORK/v1.yaml\",\"sources\":[{\"name\":\"customers\",\"type\":\"sharepoint-list\"}],\"fields\":[{\"name\":\"customer\",\"source\":\"customers\"}]}"
VALIDATE_SHAPE=$(jq -c '{ok, file, sources: [.sources[] | {name, type}], fields: [.fields[] | {name, source}]}' <<<"$OUT")

section "a first apply creates (positional FILE)"
run --output json apply "$WORK/v1.yaml"
expect_eq "apply exits 0" "$RC" 0
expect_eq "apply JSON has validate's shape" \
  "$(jq -c '{ok, file, sources: [.sources[] | {name, type}], fields: [.fields[] | {name, source}]}' <<<"$OUT")" \
  "$VALIDATE_SHAPE"
expect_eq "every item created" "$(jq -c '[.sources[].change, .fields[].change], .dry_run' <<<"$OUT" | paste -sd' ')" \
  '["created","created"] false'

section "the same file again: unchanged, in text"
run apply "$WORK/v1.yaml"
expect_eq "apply exits 0" "$RC" 0
expect_eq "one line per item, then the counts" "$OUT" "unchanged source customers
unchanged field customer
applied $WORK/v1.yaml: 0 created, 0 updated, 2 unchanged"

section "--dry-run shows the keys that would change and writes nothing"
export APPLY_TEST_SECRET=$NEW_SECRET
run apply --dry-run "$WORK/v2.yaml"
expect_eq "dry run exits 0" "$RC" 0
expect_has "the source would be updated" "$OUT" "would update  source customers"
expect_has "the list's old and new value" "$OUT" '~ list: "Customers" → "Countries"'
expect_has "the secret only as changed" "$OUT" "~ client_secret: secret changed (not shown)"
expect_has "the field's label" "$OUT" '~ label: "{fields.Title}" → "{fields.Title} ({fields.Country})"'
expect_has "the summary says nothing was written" "$OUT" \
  "dry run of $WORK/v2.yaml: 0 to create, 2 to update, 0 unchanged; nothing was written"
expect_lacks "no old secret in the text" "$OUT$ERR" "$OLD_SECRET"
expect_lacks "no new secret in the text" "$OUT$ERR" "$NEW_SECRET"
run --output json apply --dry-run "$WORK/v2.yaml"
expect_eq "JSON: dry_run and the changes" \
  "$(jq -c '[.dry_run, .sources[0].change, .fields[0].change]' <<<"$OUT")" '[true,"updated","updated"]'
expect_eq "JSON: the secret's key without values" \
  "$(jq -cS '.sources[0].keys[] | select(.key == "client_secret")' <<<"$OUT")" \
  '{"change":"changed","key":"client_secret","secret":true}'
expect_eq "JSON: the list's values" \
  "$(jq -cS '.sources[0].keys[] | select(.key == "list")' <<<"$OUT")" \
  '{"after":"Countries","before":"Customers","change":"changed","key":"list"}'
expect_lacks "no secret in the JSON" "$OUT" "Q~apply-test-secret"
run --output json source show customers
expect_eq "the stored source is unchanged" "$(jq -r .list <<<"$OUT")" "Customers"
export APPLY_TEST_SECRET=$OLD_SECRET
run apply "$WORK/v1.yaml"
expect_eq "after the dry run the stored items (secret included) are still v1's" "$OUT" "unchanged source customers
unchanged field customer
applied $WORK/v1.yaml: 0 created, 0 updated, 2 unchanged"
if grep -qa "$OLD_SECRET" "$WORK/data/extdata.db"; then
  fail "the secret is sealed in the store" "found in extdata.db"
else
  pass "the secret is sealed in the store"
fi

section "a real apply updates and says so"
export APPLY_TEST_SECRET=$NEW_SECRET
run apply -f "$WORK/v2.yaml"
expect_eq "apply -f still works" "$RC" 0
expect_has "source updated" "$OUT" "updated   source customers"
expect_has "field updated" "$OUT" "updated   field customer"
expect_has "counts" "$OUT" "applied $WORK/v2.yaml: 0 created, 2 updated, 0 unchanged"
expect_has "the secret's change, not its value" "$OUT" "~ client_secret: secret changed (not shown)"
expect_lacks "no secret printed" "$OUT$ERR" "$NEW_SECRET"
run --output json source show customers
expect_eq "the stored source is the new one" "$(jq -r .list <<<"$OUT")" "Countries"

section "usage"
run apply
expect_eq "no file: a usage error" "$RC" 2
expect_has "it says how" "$ERR" "extdata apply FILE"
run apply "$WORK/v1.yaml" -f "$WORK/v2.yaml"
expect_eq "two files: a usage error" "$RC" 2

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
