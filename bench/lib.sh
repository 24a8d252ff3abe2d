#!/usr/bin/env bash
# Pieces shared by the bench/run-*.sh scripts that start graphsim and `extdata serve` and load
# them with wrk. Source it after setting:
#   work     a temp dir (logs, ports, configs go there)
#   pids     an array: every process started here is appended, the caller's EXIT trap kills them
#   EXTDATA, GRAPHSIM   the binaries
# graphsim serves bench/sharepoint-fixture.yaml (run from the repository root) with a generated
# Customers list; sharepoint_config writes the `customers` source and `customer` field over it.
# No sleeps for timing: the waits below are bounded polls.

BENCH_SECRET='Abc8Q~benchSecret.Value-0001xYz2'

now_ns() { date +%s%N; }

wait_for_file() {  # file, pid
  for _ in $(seq 1 6000); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

start_graphsim() {  # items → sets GRAPHSIM_URL, graphsim_pid
  rm -f "$work/graphsim.port"
  "$GRAPHSIM" --fixture bench/sharepoint-fixture.yaml --generate-items "Customers=$1" \
    --port-file "$work/graphsim.port" >"$work/graphsim.log" 2>&1 &
  graphsim_pid=$!
  pids+=("$graphsim_pid")
  wait_for_file "$work/graphsim.port" "$graphsim_pid" ||
    { cat "$work/graphsim.log" >&2; echo "graphsim did not start" >&2; exit 1; }
  GRAPHSIM_URL=http://127.0.0.1:$(cat "$work/graphsim.port")
}

graphsim_counter() {  # jq expression over /_graphsim/counters, e.g. .graph_requests.total
  curl -sS "$GRAPHSIM_URL/_graphsim/counters" | jq "$1"
}

sharepoint_config() {  # file: the customers source over graphsim's list and the customer field
  cat >"$1" <<YAML
sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: \${env:BENCH_SECRET}
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
    authority: $GRAPHSIM_URL
    graph: $GRAPHSIM_URL/v1.0
    cache_ttl: 1h
fields:
  - name: customer
    source: customers
    label: "{fields.Title} ({fields.City|—}, {fields.Country})"
    value: "{id}"
    search: "{fields.Title} {fields.City|} {fields.Country}"
    sort: "{fields.Title}"
YAML
}

# serve NAME [extdata options before `serve`...] -- [serve options...]
#   → EXTDATA_URL, extdata_pid; $work/NAME.out and $work/NAME.log; serve_started_ns (just before
#   the exec) and serve_listening_ns (when it printed its address, polled every 20 ms)
serve() {
  local name=$1 global=()
  shift
  while [[ $# -gt 0 && $1 != -- ]]; do global+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  serve_started_ns=$(now_ns)
  "$EXTDATA" "${global[@]}" serve --listen 127.0.0.1:0 --log-level warn "$@" \
    >"$work/$name.out" 2>"$work/$name.log" &
  extdata_pid=$!
  pids+=("$extdata_pid")
  EXTDATA_URL=
  for _ in $(seq 1 6000); do
    EXTDATA_URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$work/$name.out" | head -1)
    [[ -n $EXTDATA_URL ]] && break
    kill -0 "$extdata_pid" 2>/dev/null || break
    sleep 0.02
  done
  serve_listening_ns=$(now_ns)
  [[ -n $EXTDATA_URL ]] || { cat "$work/$name.out" "$work/$name.log" >&2; exit 1; }
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
mb() { echo "scale=1; $1 / 1024" | bc; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run_wrk NAME URL [wrk options...] → appends "NAME req_s p50_ms p99_ms" to $work/results
run_wrk() {
  local name=$1 url=$2
  shift 2
  wrk -t2 -c64 -d"$DURATION" --latency "$@" "$url" >"$work/wrk.out"
  awk -v n="$name" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ {r=$2} $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)} /Non-2xx/ {bad=$NF}
    END {if (bad) {print "non-2xx responses: " bad > "/dev/stderr"; exit 1}; print n, r, p50, p99}' \
    "$work/wrk.out" >>"$work/results"
  echo "  $(tail -1 "$work/results")" >&2
}
