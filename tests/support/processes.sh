# shellcheck shell=bash
# Shared by integration scripts that start graphsim and `extdata serve` (source it after setting
# WORK and a PIDS array that the script's cleanup kills; needs GRAPHSIM_BIN and
# EXTDATA_SOURCE_DIR, and a `die` function, as tests/support/checks.sh gives).

# graphsim with the demo fixture on a free port: sets GRAPHSIM_PID and GRAPHSIM_URL.
start_demo_graphsim() {
  rm -f "$WORK/graphsim.port"
  "$GRAPHSIM_BIN" --fixture "$EXTDATA_SOURCE_DIR/tools/graphsim/fixtures/demo.yaml" \
    --listen 127.0.0.1:0 --port-file "$WORK/graphsim.port" >"$WORK/graphsim.out" \
    2>"$WORK/graphsim.log" &
  GRAPHSIM_PID=$!
  PIDS+=("$GRAPHSIM_PID")
  for _ in $(seq 400); do
    [[ -s "$WORK/graphsim.port" ]] && break
    kill -0 "$GRAPHSIM_PID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -s "$WORK/graphsim.port" ]] || die "graphsim did not start"
  GRAPHSIM_URL="http://127.0.0.1:$(cat "$WORK/graphsim.port")"
}

# OUT-FILE PID: prints the URL once `extdata serve` (writing its stdout to OUT-FILE) says where
# it listens; prints nothing when the process ends first or after 20 s.
listening_url() {
  local url=""
  for _ in $(seq 400); do
    url=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$1" | head -1)
    [[ -n $url ]] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  printf '%s' "$url"
}

# NAME{labels}: the value on $EXTDATA_URL/metrics, 0 when the series does not exist yet.
metric() {
  curl -sS "$EXTDATA_URL/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
