#!/usr/bin/env bash
# Issue 21: OAuth2 on behalf of a user against a real authorization server (oidc-provider,
# tests/node/oidc-user-server.mjs): Connect in the web UI (Chromium through the provider's own
# login and consent pages), the code exchange with the PKCE verifier, a wrong state and an
# error callback refused, rotation across 10 refreshes by separate CLI processes, a replayed
# refresh token revoking the grant → reconnect needed while the field serves its records stale,
# the device flow from the terminal with authorization_pending and slow_down, and revocation on
# delete. The steps are in tests/e2e/oauth_user.mjs; this script starts the processes.
set -euo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR

if [[ ! -d "$SRC/tests/node/node_modules/playwright-core" || ! -d "$SRC/tests/node/node_modules/oidc-provider" ]]; then
  echo "FAIL: playwright-core / oidc-provider are not installed in tests/node; run scripts/install-deps" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  echo "FAIL: $CHROMIUM not found; run scripts/install-deps (Debian package chromium)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-oauth-user.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
die() {
  echo "setup failed: $*" >&2
  for f in "$WORK"/*.log "$WORK"/*.out; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  echo "0 passed, 1 failed"
  exit 1
}

export EXTDATA_ALLOW_HOSTS=${EXTDATA_ALLOW_HOSTS:-127.0.0.1}
EXTDATA=("$EXTDATA_BIN" --data "$WORK/data")
"${EXTDATA[@]}" init >"$WORK/init.log" 2>&1 || die "extdata init"
ADMIN_TOKEN=$("${EXTDATA[@]}" token create --role admin --label oauth 2>/dev/null)

"${EXTDATA[@]}" serve --listen 127.0.0.1:0 --web-dir "$SRC/web" --log-level debug \
  >"$WORK/serve.out" 2>"$WORK/serve.log" &
PIDS+=($!)
EXTDATA_URL=""
for _ in $(seq 400); do
  EXTDATA_URL=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [[ -n "$EXTDATA_URL" ]] && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$EXTDATA_URL" ]] || die "extdata serve did not start"

# The provider registers extdata's callback as the client's only redirect URI. stdin stays
# open (a fifo held by this shell) so the server lives until the script ends.
mkfifo "$WORK/oidc.in"
exec 3<>"$WORK/oidc.in"
"$SRC/scripts/node" "$SRC/tests/node/oidc-user-server.mjs" --redirect-uri "$EXTDATA_URL/oauth2/callback" \
  <&3 >"$WORK/oidc.out" 2>"$WORK/oidc.log" &
PIDS+=($!)
for _ in $(seq 400); do [[ -s "$WORK/oidc.out" ]] && break; sleep 0.05; done
[[ -s "$WORK/oidc.out" ]] || die "oidc-user-server.mjs did not start"

status=0
EXTDATA_URL=$EXTDATA_URL EXTDATA_ADMIN_TOKEN=$ADMIN_TOKEN EXTDATA_DATA="$WORK/data" WORK=$WORK \
  OIDC_JSON="$(head -1 "$WORK/oidc.out")" CHROMIUM=$CHROMIUM EXTDATA_PUBLIC_URL=$EXTDATA_URL \
  "$SRC/scripts/node" "$SRC/tests/e2e/oauth_user.mjs" || status=$?
if ((status != 0)); then
  echo "--- extdata serve log (last 40 lines)" >&2
  tail -n 40 "$WORK/serve.log" >&2 || true
fi
exit $status
