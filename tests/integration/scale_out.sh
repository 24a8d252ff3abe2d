#!/usr/bin/env bash
# Issue 19, item 4: three `extdata serve` instances on one store behind nginx behave as one
# service. graphsim is the upstream; its counters and the instances' /metrics are the evidence:
#  - a change through instance A is served by B and C within 1 s;
#  - three concurrent refreshes (one per instance) → one upstream sync and one token request;
#    a later sync on another instance reuses the shared token;
#  - kill -9 of the instance syncing (graphsim slowed down) → another instance takes the lease
#    after its expiry and the sync completes; nginx keeps answering.
# The store: a shared SQLite data dir; SCALE_OUT_STORE=postgres starts a PostgreSQL 15 and uses
# it (ctest runs both), EXTDATA_STORE=postgresql://… uses that store.
# Env: EXTDATA_BIN, GRAPHSIM_BIN, EXTDATA_SOURCE_DIR (set by ctest). Needs curl and nginx.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${GRAPHSIM_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in curl python3 "$NGINX"; do
  [[ -x $(command -v "$tool") ]] || {
    echo "FAIL: $tool not found; run scripts/install-deps"
    echo "0 passed, 1 failed"
    exit 1
  }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-scale-out.XXXXXX")
chmod 755 "$WORK"  # nginx's workers (nobody, when the test runs as root) write temp files here
PIDS=()
DB_WORK=$WORK
. "$SRC/tests/support/db-servers.sh"
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  db_stop_all
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
. "$SRC/tests/support/checks.sh"

# SCALE_OUT_STORE=postgres (ctest's integration_scale_out_postgres): the instances share a
# PostgreSQL 15 started here, as an operator would run them; otherwise an SQLite data dir.
if [[ ${SCALE_OUT_STORE:-} == postgres ]]; then
  db_start_postgres || { echo "FAIL: PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
  pg_sql "CREATE ROLE extdata LOGIN PASSWORD 'scale-Out-4711'" &&
    pg_sql "CREATE DATABASE extdata OWNER extdata" ||
    { echo "FAIL: creating the role and database"; echo "0 passed, 1 failed"; exit 1; }
  printf 'scale-Out-4711\n' >"$WORK/pgpassword" && chmod 600 "$WORK/pgpassword"
  export EXTDATA_STORE="postgresql://extdata@127.0.0.1:$PG_PORT/extdata?sslmode=disable"
  export EXTDATA_STORE_PASSWORD_FILE=$WORK/pgpassword
fi

now_ms() { date +%s%3N; }
wait_for_file() {  # file pid what
  for _ in $(seq 400); do
    [[ -s $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  die "$3 did not start"
}
free_port() {  # nginx cannot listen on port 0 and say which it got: ask the kernel for one
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ------------------------------------------------------------------ graphsim
"$GRAPHSIM_BIN" --fixture "$SRC/tools/graphsim/fixtures/demo.yaml" --listen 127.0.0.1:0 \
  --port-file "$WORK/graphsim.port" >"$WORK/graphsim.log" 2>&1 &
PIDS+=($!)
wait_for_file "$WORK/graphsim.port" "${PIDS[-1]}" graphsim
G="http://127.0.0.1:$(cat "$WORK/graphsim.port")"
counters() { curl -sS "$G/_graphsim/counters" >"$WORK/counters.json"; }
faults() { curl -sS -X PUT -H 'Content-Type: application/json' -d "$1" "$G/_graphsim/faults" >/dev/null; }

# ------------------------------------------------------------------ store + configuration
DATA=(--data "$WORK/data")
[[ -n ${EXTDATA_STORE:-} ]] && echo "store: $EXTDATA_STORE" || echo "store: SQLite in $WORK/data"
export EXTDATA_MASTER_KEY
EXTDATA_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$WORK/config.yaml" <<EOF
sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-1111-4111-8111-111111111111
    client_secret: \${env:SP_SECRET}
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
    page_size: 20
    sync: full
    authority: $G
    graph: $G/v1.0
    cache_ttl: 1h
fields:
  - name: customer
    source: customers
    label: "{fields.Title}"
    value: "{id}"
EOF
SP_SECRET='Abc8Q~graphsimDemoSecret.Value-0001xYz2' \
  "$EXTDATA_BIN" "${DATA[@]}" apply -f "$WORK/config.yaml" >"$WORK/apply.log" 2>&1 || die "apply failed"
ADMIN=$("$EXTDATA_BIN" "${DATA[@]}" token create --role admin --label scale-out 2>/dev/null) ||
  die "token create failed"

# ------------------------------------------------------------------ three instances + nginx
declare -A URL PID
start_instance() {  # name
  EXTDATA_LEASE_TTL=3 "$EXTDATA_BIN" "${DATA[@]}" serve --listen 127.0.0.1:0 \
    >"$WORK/$1.out" 2>"$WORK/$1.log" &
  PID[$1]=$!
  PIDS+=($!)
  for _ in $(seq 400); do
    URL[$1]=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$WORK/$1.out" | head -1)
    [[ -n ${URL[$1]} ]] && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || break
    sleep 0.05
  done
  die "instance $1 did not start"
}
for i in a b c; do start_instance $i; done

LB_PORT=$(free_port)
cat >"$WORK/nginx.conf" <<EOF
$([[ $(id -u) == 0 ]] && echo "user root;")
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  fastcgi_temp_path $WORK/nginx-fastcgi;
  uwsgi_temp_path $WORK/nginx-uwsgi;
  scgi_temp_path $WORK/nginx-scgi;
  upstream extdata {
    server ${URL[a]#http://} max_fails=1 fail_timeout=10s;
    server ${URL[b]#http://} max_fails=1 fail_timeout=10s;
    server ${URL[c]#http://} max_fails=1 fail_timeout=10s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://extdata;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
    }
  }
}
EOF
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' 2>"$WORK/nginx-start.log" &
PIDS+=($!)
LB="http://127.0.0.1:$LB_PORT"
for _ in $(seq 200); do
  curl -fsS "$LB/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fsS "$LB/healthz" >/dev/null 2>&1 || die "nginx did not start"

api() {  # instance-url method path [curl args]: body in $WORK/body.json, status in $CODE
  local base=$1 method=$2 path=$3
  shift 3
  CODE=$(curl -sS -o "$WORK/body.json" -w '%{http_code}' -X "$method" \
    -H "Authorization: Bearer $ADMIN" "$base/api/v1$path" "$@")
}
metric() {  # instance series: the value on its /metrics, 0 when absent
  curl -sS "${URL[$1]}/metrics" | awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'
}
sum_metric() { echo $(($(metric a "$1") + $(metric b "$1") + $(metric c "$1"))); }

# ------------------------------------------------------------------ one sync, one token
section "three concurrent refreshes, one per instance"
faults '{"latency_ms": 150}'  # every Graph and token response: the sync takes ~1 s
curl -sS -X POST "$G/_graphsim/counters/reset" >/dev/null
declare -A refreshing
for i in a b c; do
  curl -sS -o "$WORK/refresh-$i.json" -X POST -H "Authorization: Bearer $ADMIN" \
    "${URL[$i]}/api/v1/sources/customers/refresh" &
  refreshing[$i]=$!
done
for i in a b c; do wait "${refreshing[$i]}"; done
faults '{}'
counters
expect_eq "graphsim: one token request" "$(j "$WORK/counters.json" 'j.token_requests.total')" 1
expect_eq "graphsim: one item listing (60 items, 3 pages of 20)" \
  "$(j "$WORK/counters.json" 'j.graph_requests.by_route.items')" 3
expect_eq "graphsim: no page fetched twice" \
  "$(j "$WORK/counters.json" 'Object.values(j.graph_requests.by_target).every(n => n === 1)')" true
for i in a b c; do
  expect_eq "instance $i: its refresh answered 60 records" "$(j "$WORK/refresh-$i.json" 'j.records')" 60
done
expect_eq "metrics: the instances took the sync lease in turn (3 acquisitions, one sync)" \
  "$(sum_metric 'extdata_cluster_lease_acquired_total{purpose="sync"}')" 3
expect_eq "metrics: two instances loaded the synced snapshot instead of fetching" \
  "$(sum_metric 'extdata_cache_snapshots_loaded_from_store_total{source="customers",reason="peer_sync"}')" 2
expect_eq "metrics: one fetch upstream across the instances" \
  "$(sum_metric 'extdata_cache_refreshes_total{source="customers"}')" 1

section "a later sync elsewhere reuses the shared token"
syncer=""
for i in a b c; do [[ $(metric $i 'extdata_cache_refreshes_total{source="customers"}') == 1 ]] && syncer=$i; done
other=$([[ $syncer == b ]] && echo c || echo b)
api "${URL[$other]}" POST /sources/customers/refresh
expect_eq "instance $other refreshes on its own (200)" "$CODE" 200
counters
expect_eq "graphsim: still one token request (the token came from the store)" \
  "$(j "$WORK/counters.json" 'j.token_requests.total')" 1
expect_eq "graphsim: a second listing" "$(j "$WORK/counters.json" 'j.graph_requests.by_route.items')" 6

# ------------------------------------------------------------------ a change seen everywhere
section "a change through instance A is served by B and C within 1 s"
for i in a b c; do api "${URL[$i]}" GET '/fields/customer/options?limit=1'; done
api "${URL[a]}" PUT /fields/customer -H 'Content-Type: application/json' \
  -d '{"source": "customers", "label": "changed: {fields.Title}", "value": "{id}"}'
changed_at=$(now_ms)
expect_eq "PUT through A → 200" "$CODE" 200
declare -A seen=()
while ((${#seen[@]} < 2 && $(now_ms) - changed_at < 3000)); do  # B and C polled side by side
  for i in b c; do
    [[ -n ${seen[$i]:-} ]] && continue
    curl -sS -H "Authorization: Bearer $ADMIN" "${URL[$i]}/api/v1/fields/customer/options?limit=1" |
      grep -q '"label": *"changed: ' && seen[$i]=$(($(now_ms) - changed_at))
  done
done
for i in b c; do
  if [[ -n ${seen[$i]:-} && ${seen[$i]} -le 1000 ]]; then pass "instance $i serves the change after ${seen[$i]} ms"; else
    fail "instance $i serves the change within 1 s" "seen after: ${seen[$i]:-never (3 s)} ms"; fi
done
api "$LB" GET '/fields/customer/options?limit=1'
expect_match "through nginx: the changed label" "$(j "$WORK/body.json" 'j.options[0].label')" '^changed: '

# ------------------------------------------------------------------ kill -9 mid-sync
section "kill -9 of the syncing instance: another takes the lease after expiry"
faults '{"latency_ms": 1500}'
before_a=$(metric a 'extdata_cluster_lease_acquired_total{purpose="sync"}')
curl -sS -o /dev/null -X POST -H "Authorization: Bearer $ADMIN" 2>/dev/null \
  "${URL[a]}/api/v1/sources/customers/refresh" &
for _ in $(seq 200); do
  [[ $(metric a 'extdata_cluster_lease_acquired_total{purpose="sync"}') -gt $before_a ]] && break
  sleep 0.05
done
kill -9 "${PID[a]}"
killed_at=$(now_ms)
wait "${PID[a]}" 2>/dev/null
expect_eq "instance a took the lease and was killed mid-sync (SIGKILL)" "$?" 137
faults '{"latency_ms": 100}'
waits_before=$(metric b 'extdata_cluster_lease_waits_total{source="customers"}')
api "${URL[b]}" POST /sources/customers/refresh
took=$(($(now_ms) - killed_at))
expect_eq "instance b's refresh completes (200, 60 records)" "$CODE $(j "$WORK/body.json" 'j.records')" "200 60"
expect_eq "  ... after waiting for the dead holder's lease" \
  "$(($(metric b 'extdata_cluster_lease_waits_total{source="customers"}') - waits_before))" 1
if ((took >= 1000 && took < 3000 + 4000)); then pass "  ... within lease expiry (3 s) + one sync: ${took} ms"; else
  fail "  ... within lease expiry (3 s) + one sync" "took ${took} ms"; fi
faults '{}'
ok=0
for _ in 1 2 3 4 5 6; do
  api "$LB" GET '/fields/customer/options?limit=1'
  [[ $CODE == 200 ]] && ok=$((ok + 1))
done
expect_eq "through nginx with instance a dead: 6 of 6 option requests answered" "$ok" 6

finish
