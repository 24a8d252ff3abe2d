#!/usr/bin/env bash
# Target sync of 10,000 options where 10 changed (issue 20): `extdata target sync` against the
# Jira double (tests/node/jira-double.mjs) on 127.0.0.1. Prints the Jira requests by method and
# the wall time of the first sync (10,000 creates) and of the sync after 10 renames — the
# target is "the pages to read plus one write batch": 1 page of contexts + 100 pages of 100
# options + 1 PUT. Medians of RUNS runs (default 3) of the second sync.
#   BUILD=build/release bench/run-target-sync.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
RUNS=${1:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-bench-target.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
node() { scripts/node "$@"; }
wait_port() { for _ in $(seq 600); do [[ -s $1 ]] && return; sleep 0.05; done; echo "no $1" >&2; exit 1; }

scripts/node tests/node/jira-double.mjs --port-file "$WORK/jira.port" 2>/dev/null &
PIDS+=($!)
scripts/node -e '
  const http = require("http"), fs = require("fs");
  const s = http.createServer((q, r) => r.end(fs.readFileSync(process.argv[1])));
  s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[2], String(s.address().port)));
' "$WORK/customers.json" "$WORK/up.port" &
PIDS+=($!)
wait_port "$WORK/jira.port"
wait_port "$WORK/up.port"
JIRA=http://127.0.0.1:$(cat "$WORK/jira.port")
customers() {  # customers SUFFIX-FOR-THE-FIRST-10
  node -e '
    const items = [];
    for (let i = 1; i <= 10000; i++) items.push({ id: i, name: "Customer " + i + (i % 1000 === 0 ? process.argv[1] : "") });
    require("fs").writeFileSync(process.argv[2], JSON.stringify({ items }));
  ' "$1" "$WORK/customers.json"
}
customers ""
cat >"$WORK/config.yaml" <<YAML
sources:
  - {name: crm, type: rest, url: "http://127.0.0.1:$(cat "$WORK/up.port")/c", records: "\$.items[*]"}
fields:
  - {name: customer, source: crm, value: "{id}", label: "{name}"}
targets:
  - name: jira
    type: jira-field-options
    field: customer
    jira: $JIRA
    auth: {type: basic, username: admin@contoso.com, password: jira-api-token}
    field_id: customfield_10042
YAML
X=("$BUILD/extdata" --allow-host 127.0.0.1 --data "$WORK/data")
"${X[@]}" apply -f "$WORK/config.yaml" >/dev/null
counters() { curl -sS "$JIRA/_jira/counters" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).requests;process.stdout.write(`GET ${c.GET}, POST ${c.POST}, PUT ${c.PUT}, DELETE ${c.DELETE}`)})'; }
reset() { curl -sS -X POST "$JIRA/_jira/counters/reset" >/dev/null; }
report() { node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));const c=r.counts;process.stdout.write(`created ${c.created} updated ${c.updated} unchanged ${c.unchanged}; sync ${r.seconds.toFixed(3)} s`)'; }
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >"$WORK/out.json"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

reset
w=$(wall "${X[@]}" --output json target sync jira)
echo "first sync, 10,000 new options: $(report <"$WORK/out.json"); process ${w} s; Jira requests: $(counters)"
for run in $(seq "$RUNS"); do
  customers " (renamed $run)"
  reset
  w=$(wall "${X[@]}" --output json target sync jira)
  echo "run $run, 10 renamed of 10,000: $(report <"$WORK/out.json"); process ${w} s; Jira requests: $(counters)"
done
