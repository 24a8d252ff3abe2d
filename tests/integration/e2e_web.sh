#!/usr/bin/env bash
# Web UI end-to-end: graphsim + `extdata serve` + Debian's Chromium driven by playwright-core
# (tests/e2e/run.mjs). The SharePoint source is created through the wizard; the demo form
# uses the demo configuration applied here. Screenshots go to artifacts/e2e (git-ignored).
set -euo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR

if [[ ! -d "$SRC/tests/node/node_modules/playwright-core" ]]; then
  echo "FAIL: playwright-core is not installed in tests/node; run scripts/install-deps" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  echo "FAIL: $CHROMIUM not found; run scripts/install-deps (Debian package chromium)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-e2e-web.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$GRAPHSIM_BIN" --fixture "$SRC/tools/graphsim/fixtures/demo.yaml" --listen 127.0.0.1:0 \
  --port-file "$WORK/graphsim.port" >"$WORK/graphsim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -s "$WORK/graphsim.port" ]] && break; sleep 0.05; done
[[ -s "$WORK/graphsim.port" ]] || { cat "$WORK/graphsim.log" >&2; echo "graphsim did not start" >&2; exit 1; }
GRAPHSIM_URL="http://127.0.0.1:$(cat "$WORK/graphsim.port")"

sed "s#@GRAPHSIM@#$GRAPHSIM_URL#g" "${DEMO_CONFIG_IN:-$SRC/examples/demo.yaml.in}" >"$WORK/demo.yaml"
export DEMO_CLIENT_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2'
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
"${EXTDATA[@]}" apply -f "$WORK/demo.yaml" >"$WORK/apply.log" 2>&1 || { cat "$WORK/apply.log" >&2; exit 1; }
ADMIN_TOKEN=$("${EXTDATA[@]}" token create --role admin --label e2e 2>/dev/null)
unset DEMO_CLIENT_SECRET

"${EXTDATA[@]}" serve --listen 127.0.0.1:0 --anonymous-read --web-dir "$SRC/web" \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
EXTDATA_URL=""
for _ in $(seq 400); do
  EXTDATA_URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n "$EXTDATA_URL" ]] && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$EXTDATA_URL" ]] || { cat "$WORK/serve.out" "$WORK/serve.log" >&2; echo "extdata serve did not start" >&2; exit 1; }

ARTIFACTS_DIR=${ARTIFACTS_DIR:-$SRC/artifacts/e2e}
rm -rf "$ARTIFACTS_DIR"
status=0
EXTDATA_URL=$EXTDATA_URL EXTDATA_ADMIN_TOKEN=$ADMIN_TOKEN GRAPHSIM_URL=$GRAPHSIM_URL \
  ARTIFACTS_DIR=$ARTIFACTS_DIR CHROMIUM=$CHROMIUM \
  "$SRC/scripts/node" "$SRC/tests/e2e/run.mjs" || status=$?
if ((status != 0)); then
  echo "--- extdata serve log (last 40 lines)" >&2
  tail -n 40 "$WORK/serve.log" >&2 || true
fi
exit $status
