# Shared by integration scripts (source it after setting WORK): numbered PASS/FAIL lines,
# expectations, sections, a setup failure that prints the logs, and `j FILE EXPR`, which
# evaluates the JavaScript expression EXPR with `j` bound to FILE's JSON (strings print raw,
# everything else as JSON; "<not json>" when FILE is not JSON, "<error: …>" when EXPR throws). Needs EXTDATA_SOURCE_DIR for
# the project's Node.js (scripts/node). Ends with `finish`, which prints the tally and sets the
# exit status.
n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:400} | want match: $3"; fi; }
section() { printf '\n== %s\n' "$1"; }
die() { echo "setup failed: $*" >&2; tail -n 30 "$WORK"/*.log >&2; echo "0 passed, 1 failed"; exit 1; }
code_of() { sed -n 's/.*"code": *"\([^"]*\)".*/\1/p' | head -1; }
j() {
  "$EXTDATA_SOURCE_DIR/scripts/node" -e '
    let j;
    try { j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); }
    catch (e) { process.stdout.write("<not json>"); process.exit(0); }
    let v;
    try { v = new Function("j", "return (" + process.argv[2] + ");")(j); }
    catch (e) { v = "<error: " + e.message + ">"; }
    process.stdout.write(v === undefined ? "undefined" : typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}
finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  [[ $failed -eq 0 ]]
}
