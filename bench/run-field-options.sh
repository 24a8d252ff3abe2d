#!/usr/bin/env bash
# Field options under load (docs/benchmarks.md, "Field options over HTTP"): a field over a
# 100,000-item SharePoint list (graphsim, bench/sharepoint-fixture.yaml), queried with
#   GET /api/v1/fields/customer/options?q=ab&limit=20
# by wrk (2 threads, 64 connections, DURATION) against `extdata serve`, and in the same run
# against nginx serving a static JSON file of exactly the same size as extdata's response.
# Then extdata's resident memory after loading 100,000 and 1,000,000 records, and a restart at
# 1,000,000 records with graphsim stopped: the time to the first answer (from the binary
# snapshot) and the memory after it.
#   bench/run-field-options.sh         (after `make build`; DURATION=15s RUNS=3 BIG=1000000)
#   ONLY_BIG=1 bench/run-field-options.sh   (the 1,000,000-record part only: memory, restart)
#   PERF_RESTART=/tmp/restart.data ...        (also `perf record` the requests after the restart)
#   SMAPS=FILE ...        (copy the server's /proc/PID/smaps at 1,000,000 records to FILE)
#   KEEP_BIG=DIR ...      (keep a copy of the 1,000,000-record data directory and answer in DIR)
#   REUSE_BIG=DIR bench/run-field-options.sh  (only the restart, from such a copy: no fetch)
set -euo pipefail
cd "$(dirname "$0")/.."
# graphsim listens on 127.0.0.1: the network policy allows exactly that (docs/network.md).
export EXTDATA_ALLOW_HOSTS=127.0.0.1
BUILD=${BUILD:-build/release}
DURATION=${DURATION:-15s}
RUNS=${RUNS:-3}
ITEMS=${ITEMS:-100000}
BIG=${BIG:-1000000}
QUERY=${QUERY:-q=ab&limit=20}
EXTDATA=${EXTDATA:-$BUILD/extdata}
GRAPHSIM=${GRAPHSIM:-$BUILD/extdata-graphsim}
for bin in "$EXTDATA" "$GRAPHSIM"; do
  [[ -x $bin ]] || { echo "missing $bin: run make build" >&2; exit 1; }
done
for tool in wrk nginx curl jq python3; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
    { echo "missing $tool: run scripts/install-deps" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# wait_for_file, start_graphsim, sharepoint_config, serve, rss_kb, hwm_kb, median, run_wrk
# shellcheck source=lib.sh
source bench/lib.sh

start_extdata() {  # data dir [serve options...] → sets EXTDATA_URL, extdata_pid
  local data=$1
  shift
  sharepoint_config "$work/config.yaml"
  BENCH_SECRET=$BENCH_SECRET "$EXTDATA" --data "$data" apply -f "$work/config.yaml" >/dev/null
  serve serve --data "$data" -- --anonymous-read "$@"
}

ONLY_BIG=${ONLY_BIG:-0}
if [[ $ONLY_BIG != 1 ]]; then
# --- 100,000 records: extdata and nginx under wrk -------------------------------------
start_graphsim "$ITEMS"
start_extdata "$work/data"
options_url="$EXTDATA_URL/api/v1/fields/customer/options?$QUERY"
baseline_rss=$(rss_kb "$extdata_pid")
# The first request loads the record set (every page) and builds the search index.
curl -sS --fail -o "$work/response.json" "$options_url"
total=$(jq .total "$work/response.json")
count=$(jq '.options | length' "$work/response.json")
[[ $count -gt 0 ]] || { echo "no options for $QUERY" >&2; cat "$work/response.json" >&2; exit 1; }
loaded_rss=$(rss_kb "$extdata_pid")
size=$(stat -c %s "$work/response.json")
echo "extdata $EXTDATA_URL: $ITEMS records, $QUERY → $count options of $total, $size bytes" >&2

# nginx: same body size, same two worker processes as extdata's two network threads.
mkdir -p "$work/www" "$work/nginx"
cp "$work/response.json" "$work/www/options.json"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user_line=""
[[ $(id -u) == 0 ]] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    default_type application/json;
  }
}
CONF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/start.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/options.json" && break; sleep 0.1; done
nginx_url="http://127.0.0.1:$nginx_port/options.json"
cmp <(curl -sS "$nginx_url") "$work/response.json" || { echo "nginx serves a different body" >&2; exit 1; }

# A second server over the same data directory with the rendered-page cache off: every request
# searches and writes the 20 records' JSON. It starts from the snapshot the first one stored.
first_url=$EXTDATA_URL first_pid=$extdata_pid
start_extdata "$work/data" --options-cache-mb 0
uncached_url="$EXTDATA_URL/api/v1/fields/customer/options?$QUERY"
uncached_pid=$extdata_pid
curl -sS --fail -o "$work/response-uncached.json" "$uncached_url"
cmp <(jq -S .options "$work/response.json") <(jq -S .options "$work/response-uncached.json") ||
  { echo "the uncached server answers differently" >&2; exit 1; }
EXTDATA_URL=$first_url extdata_pid=$first_pid

for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS" >&2
  run_wrk extdata "$options_url"
  run_wrk nginx "$nginx_url"
  run_wrk uncached "$uncached_url"
done
loaded_after_rss=$(rss_kb "$extdata_pid")
requests=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_api_requests_total/ {s+=$2} END {print s+0}')

for name in extdata nginx uncached; do
  for col in 2 3 4; do
    awk -v n=$name -v c=$col '$1==n {print $c}' "$work/results" | median
  done | paste -sd' ' | sed "s/^/$name /"
done >"$work/medians"

inline=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_api_inline_total/ {print $2}')
rendered_hits=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_options_rendered_total\{result="hit"\}/ {print $2}')
kill "$extdata_pid" "$uncached_pid" "$graphsim_pid"
wait "$extdata_pid" "$uncached_pid" "$graphsim_pid" 2>/dev/null || true
fi

# --- 1,000,000 records: resident memory only -------------------------------------------
REUSE_BIG=${REUSE_BIG:-}
if [[ -n $REUSE_BIG ]]; then
ONLY_BIG=1
cp -a "$REUSE_BIG/data" "$work/data-big"
cp "$REUSE_BIG/response-big.json" "$work/response-big.json"
big_total=$(jq .total "$work/response-big.json")
else
start_graphsim "$BIG"
start_extdata "$work/data-big"
curl -sS --fail -o "$work/response-big.json" "$EXTDATA_URL/api/v1/fields/customer/options?$QUERY"
big_total=$(jq .total "$work/response-big.json")
# Right after the first answer the option table is still being stored in the background (its
# image is built in memory for that): not yet the steady state, which is read once it is saved.
big_first_rss=$(rss_kb "$extdata_pid")
# Where the resident bytes go: the record sets held (RecordSet::memory_bytes), the rest is the
# option table, search index, rendered pages, program and allocator.
big_records=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_cache_bytes/ {printf "%d", $2}')
# The option table is stored beside the snapshot in the background (docs/fields.md, "Restart"):
# wait for it, as a server that keeps running would, before stopping this one.
for _ in $(seq 1 1200); do
  saved=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_cache_derived_saved_total/ {s+=$2} END {print s+0}')
  [[ $saved -ge 1 ]] && break
  sleep 0.1
done
big_rss=$(rss_kb "$extdata_pid")
big_hwm=$(hwm_kb "$extdata_pid")
# SMAPS=FILE: the server's memory map in the steady state, for where the resident bytes lie.
if [[ -n ${SMAPS:-} ]]; then cp "/proc/$extdata_pid/smaps" "$SMAPS"; fi

# --- restart at $BIG records, graphsim stopped: the first answer comes from the snapshot ----
kill "$extdata_pid" "$graphsim_pid"
wait "$extdata_pid" "$graphsim_pid" 2>/dev/null || true
if [[ -n ${KEEP_BIG:-} ]]; then
  mkdir -p "$KEEP_BIG"
  rm -rf "$KEEP_BIG/data"
  cp -a "$work/data-big" "$KEEP_BIG/data"
  cp "$work/response-big.json" "$KEEP_BIG/response-big.json"
fi
fi
if [[ -n $REUSE_BIG ]]; then
  # The configuration as applied then (its graphsim address is part of the snapshot's key).
  serve serve --data "$work/data-big" -- --anonymous-read
else
  start_extdata "$work/data-big"
fi
restart_listening_rss=$(rss_kb "$extdata_pid")
# PERF_RESTART=FILE: `perf record` of the server around the requests after the restart.
perf_pid=
if [[ -n ${PERF_RESTART:-} ]]; then
  perf record -F 499 -g -p "$extdata_pid" -o "$PERF_RESTART" 2>"$work/perf.log" &
  perf_pid=$!
  sleep 1
fi
restart_first=$(curl -sS --fail -o "$work/response-restart.json" -w '%{time_total}' \
  "$EXTDATA_URL/api/v1/fields/customer/options?$QUERY")
restart_total=$(jq .total "$work/response-restart.json")
restart_stale=$(jq .stale "$work/response-restart.json")
[[ $restart_total == "$big_total" ]] ||
  { echo "after the restart: total $restart_total, before $big_total" >&2; exit 1; }
restart_second=$(curl -sS --fail -o /dev/null -w '%{time_total}' \
  "$EXTDATA_URL/api/v1/fields/customer/options?q=zz&limit=20")
restart_page=$(curl -sS --fail -o /dev/null -w '%{time_total}' \
  "$EXTDATA_URL/api/v1/fields/customer/options?offset=500000&limit=20")
first_value=$(jq -r '.options[0].value' "$work/response-restart.json")
restart_value=$(curl -sS --fail -o /dev/null -w '%{time_total}' \
  "$EXTDATA_URL/api/v1/fields/customer/value?key=$first_value")
restart_loaded=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_fields_tables_loaded_total/ {s+=$2} END {print s+0}')
if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
cmp <(jq -S .options "$work/response-big.json") <(jq -S .options "$work/response-restart.json") ||
  { echo "after the restart the first answer differs from the one before" >&2; exit 1; }
restart_rss=$(rss_kb "$extdata_pid")
restart_hwm=$(hwm_kb "$extdata_pid")
# The records go on loading from the snapshot in the background: the steady state after the
# restart is read once they are all held (up to 5 minutes).
restart_settled_rss=
for _ in $(seq 1 "$([[ -n ${big_records:-} ]] && echo 3000 || echo 0)"); do
  held=$(curl -sS "$EXTDATA_URL/metrics" | awk '/^extdata_cache_bytes/ {printf "%d", $2}')
  if [[ $((${held:-0} * 100)) -ge $((big_records * 99)) ]]; then
    restart_settled_rss=$(rss_kb "$extdata_pid")
    break
  fi
  sleep 0.1
done
restart_settled_hwm=$(hwm_kb "$extdata_pid")
snapshot_mb=$(du -m "$work/data-big" | tail -1 | cut -f1)

if [[ $ONLY_BIG != 1 ]]; then
echo "### wrk -t2 -c64 -d$DURATION, GET /api/v1/fields/customer/options?$QUERY ($ITEMS records, $size-byte body)"
echo
awk -v runs="$RUNS" '
  {r[$1]=$2; p50[$1]=$3; p99[$1]=$4}
  END {
    printf "| server | requests/s | p50 | p99 |\n|---|---|---|---|\n"
    printf "| extdata serve (field options, search) | %.0f | %.2f ms | %.2f ms |\n", r["extdata"], p50["extdata"], p99["extdata"]
    printf "| nginx, static file of the same size | %.0f | %.2f ms | %.2f ms |\n", r["nginx"], p50["nginx"], p99["nginx"]
    printf "| extdata serve --options-cache-mb 0 (every request renders) | %.0f | %.2f ms | %.2f ms |\n", r["uncached"], p50["uncached"], p99["uncached"]
    printf "\nmedians of %d alternating runs. extdata / nginx: %.2f× requests/s, p99 %.2f×. Rendering every request: %.2f× nginx.\n", runs, r["extdata"]/r["nginx"], p99["extdata"]/p99["nginx"], r["uncached"]/r["nginx"]
  }' "$work/medians"
echo
echo "requests answered on the network thread: $inline; from rendered pages: $rendered_hits (of $requests)."
echo
echo "### extdata serve resident memory"
echo
echo "| records loaded | RSS | peak RSS |"
echo "|---|---|---|"
printf "| none (started, nothing fetched) | %.1f MB | |\n" "$(echo "$baseline_rss / 1024" | bc -l)"
printf "| %d (after the first request) | %.1f MB | |\n" "$ITEMS" "$(echo "$loaded_rss / 1024" | bc -l)"
printf "| %d (after %d wrk runs, %d requests served) | %.1f MB | |\n" "$ITEMS" "$RUNS" "$requests" "$(echo "$loaded_after_rss / 1024" | bc -l)"
else
echo "### extdata serve resident memory"
echo
echo "| records loaded | RSS | peak RSS |"
echo "|---|---|---|"
fi
if [[ -z $REUSE_BIG ]]; then
printf "| %d, right after the first answer (option table being stored) | %.1f MB | |\n" "$BIG" "$(echo "$big_first_rss / 1024" | bc -l)"
printf "| %d, steady: option table stored (total for q: %s) | %.1f MB | %.1f MB |\n" "$BIG" "$big_total" "$(echo "$big_rss / 1024" | bc -l)" "$(echo "$big_hwm / 1024" | bc -l)"
fi
printf "| %d after a restart (first answer from the snapshot) | %.1f MB | %.1f MB |\n" "$BIG" "$(echo "$restart_rss / 1024" | bc -l)" "$(echo "$restart_hwm / 1024" | bc -l)"
if [[ -n $restart_settled_rss ]]; then
printf "| %d after a restart, steady: all records loaded | %.1f MB | %.1f MB |\n" "$BIG" "$(echo "$restart_settled_rss / 1024" | bc -l)" "$(echo "$restart_settled_hwm / 1024" | bc -l)"
fi
echo
if [[ -z $REUSE_BIG ]]; then
printf "peak / steady after the fetch: %.2f×. Steady per record: %.2f KB.\n" \
  "$(echo "$big_hwm / $big_rss" | bc -l)" "$(echo "$big_rss * 1.024 / $BIG" | bc -l)"
printf "Record sets held (extdata_cache_bytes): %.2f KB per record; the rest of RSS: %.2f KB per record.\n" \
  "$(echo "$big_records / 1000 / $BIG" | bc -l)" "$(echo "($big_rss * 1024 - $big_records) / 1000 / $BIG" | bc -l)"
fi
echo
echo "### restart at $BIG records (graphsim stopped, data directory ${snapshot_mb} MB)"
echo
printf "first answer %.2f s (the request that loads the snapshot; total %s, stale %s), the next %.3f s; RSS when listening %.1f MB\n" \
  "$restart_first" "$restart_total" "$restart_stale" "$restart_second" "$(echo "$restart_listening_rss / 1024" | bc -l)"
printf "then a plain page (offset 500000) %.3f s, field value %.3f s; option tables loaded from the store: %s\n" \
  "$restart_page" "$restart_value" "$restart_loaded"
if [[ $ONLY_BIG != 1 ]]; then
echo
echo "raw wrk runs (name req_s p50_ms p99_ms):"
cat "$work/results"
fi
