#!/usr/bin/env bash
# Extraction benchmark: extdata (simdjson + compiled JSONPath -> RecordSet) vs the npm package
# jsonpath-plus on Node, and vs simdjson's parse alone, over the same ~100 MB Graph list-items
# document. Runs alternate (ours, theirs, ours, ...); figures are medians of RUNS runs.
# usage: bench/run-extraction.sh [RUNS=5] [SIZE_MB=100]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
size_mb=${2:-100}
data=bench/out/graph-items-${size_mb}mb.json
build=build/release

if [[ ! -f $data ]]; then
  mkdir -p bench/out
  python3 bench/gen-graph-items.py "$data" "$size_mb"
fi
if [[ ! -d tests/node/node_modules/jsonpath-plus ]]; then
  scripts/install-deps
fi
# BENCH_EXTRACTION_BIN may name an already built bench_extraction (same -O2 flags).
bin=${BENCH_EXTRACTION_BIN:-$build/bench_extraction}
if [[ -z ${BENCH_EXTRACTION_BIN:-} ]]; then
  [[ -f $build/build.ninja ]] || cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXTDATA_TESTS=OFF -DEXTDATA_BENCH=ON >/dev/null
  cmake --build $build --target bench_extraction >/dev/null
fi

ours=$(mktemp) theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT
for ((i = 1; i <= runs; i++)); do
  "$bin" "$data" 1 >>"$ours"
  scripts/node bench/extraction-jsonpath-plus.js "$data" >>"$theirs"
  echo "run $i/$runs: ours $(tail -n1 "$ours")  jsonpath-plus $(tail -n1 "$theirs")" >&2
done

python3 - "$ours" "$theirs" "$runs" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
theirs = [json.loads(l) for l in open(sys.argv[2])]
med = lambda rows, key: statistics.median(r[key] for r in rows)
mb = ours[0]["bytes"] / 1e6
assert ours[0]["records"] == theirs[0]["records"] and ours[0]["values"] == theirs[0]["values"], "results differ"
parse, extract, select = med(ours, "parse_ms"), med(ours, "extract_ms"), med(ours, "select_ms")
jp_total, jp_query, jp_parse = med(theirs, "total_ms"), med(theirs, "query_ms"), med(theirs, "parse_ms")
print(f"document: {mb:.1f} MB, {ours[0]['records']} records, {ours[0]['values']} column values, medians of {sys.argv[3]} runs")
print(f"simdjson parse only:                      {parse:9.1f} ms  {mb / parse * 1000:8.0f} MB/s")
print(f"extdata extraction (parse+records+cols):  {extract:9.1f} ms  {mb / extract * 1000:8.0f} MB/s")
print(f"extdata JSONPath only (parsed document):  {select:9.1f} ms")
print(f"extdata shape encoding (parsed document): {med(ours, 'encode_ms'):9.1f} ms")
print(f"jsonpath-plus (JSON.parse + JSONPath):    {jp_total:9.1f} ms  {mb / jp_total * 1000:8.0f} MB/s")
print(f"jsonpath-plus JSONPath only:              {jp_query:9.1f} ms  (JSON.parse {jp_parse:.1f} ms)")
print(f"ratio extdata vs jsonpath-plus (end to end): {jp_total / extract:.1f}x faster")
print(f"ratio extdata vs jsonpath-plus (JSONPath only): {jp_query / select:.1f}x faster")
print(f"ratio extraction / simdjson parse: {extract / parse:.2f}x")
print(f"RecordSet memory: {ours[0]['recordset_bytes'] / 1e6:.1f} MB for {mb:.1f} MB of JSON")
PY
