#!/usr/bin/env bash
# Scale-out on PostgreSQL (issue #19, "Performance"; docs/benchmarks.md, "Scale-out on
# PostgreSQL"). One PostgreSQL 15 is started for the run (tests/support/db-servers.sh: a temp
# dir, a free port, an unprivileged user when run as root, fsync on as in production), then:
#
#  throughput  one `extdata serve` on SQLite and one on PostgreSQL, each with the `customers`
#              source over graphsim's ITEMS-item list and the `customer` field, loaded once;
#              wrk -t2 -c64 -dDURATION with a reader token on GET .../options?q=ab&limit=20 and
#              .../options?limit=20, the stores alternating, RUNS runs each: medians, PG/SQLite
#              ratio, and the transactions PostgreSQL committed during the load.
#  apply       a document of SOURCES SharePoint sources (client secret sealed) and one field each,
#              `extdata apply` into a fresh SQLite data dir and into a fresh PostgreSQL database
#              (the store created beforehand by `extdata init`, not timed), then the same
#              document with one source changed applied again; RUNS runs alternating.
#  join        instance A on PostgreSQL loads the BIG-item list from graphsim; when its snapshot
#              is in the store, instance B starts on the same store: B's time to listening and
#              to its first options answer (the same total as A's), RSS and peak RSS, and
#              graphsim's request counters, which must not move (B loads the store's snapshot).
#
#   bench/run-scale-out.sh                (release build; RUNS=3 DURATION=10s ITEMS=100000
#                                          SOURCES=1000 BIG=1000000 BUILD=build/release)
#   ONLY_JOIN=1 bench/run-scale-out.sh    (just the join; also ONLY_APPLY=1, ONLY_THROUGHPUT=1,
#                                          or STEPS="apply join")
set -euo pipefail
cd "$(dirname "$0")/.."
export EXTDATA_ALLOW_HOSTS=127.0.0.1  # graphsim listens on 127.0.0.1 (docs/network.md)
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
ITEMS=${ITEMS:-100000}
SOURCES=${SOURCES:-1000}
BIG=${BIG:-1000000}
EXTDATA=${EXTDATA:-$BUILD/extdata}
GRAPHSIM=${GRAPHSIM:-$BUILD/extdata-graphsim}
STEPS=${STEPS:-throughput apply join}
[[ ${ONLY_JOIN:-} == 1 ]] && STEPS="join"
[[ ${ONLY_APPLY:-} == 1 ]] && STEPS="apply"
[[ ${ONLY_THROUGHPUT:-} == 1 ]] && STEPS="throughput"
for bin in "$EXTDATA" "$GRAPHSIM"; do
  [[ -x $bin ]] || { echo "missing $bin: build the release targets extdata extdata-graphsim" >&2; exit 1; }
done
for tool in wrk curl jq psql python3 bc; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
DB_WORK=$work
# shellcheck source=../tests/support/db-servers.sh
source tests/support/db-servers.sh
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  db_stop_all
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=lib.sh
source bench/lib.sh
export BENCH_SECRET

loads=()  # `uptime` load averages sampled during the run
note_load() { loads+=("$(awk '{print $1}' /proc/loadavg)"); }
seconds() { echo "scale=3; ($2 - $1) / 1000000000" | bc; }  # from_ns to_ns

# --- PostgreSQL: one server, one role, a database per store ------------------------------
PG_OPTS="-c fsync=on" db_start_postgres || { echo "PostgreSQL did not start" >&2; exit 1; }
PG_PASSWORD=bench-Scale-4711
pg_sql "CREATE ROLE extdata LOGIN PASSWORD '$PG_PASSWORD'"
printf '%s\n' "$PG_PASSWORD" >"$work/pgpassword" && chmod 600 "$work/pgpassword"
export EXTDATA_STORE_PASSWORD_FILE=$work/pgpassword
openssl rand -hex 32 >"$work/master.key" && chmod 600 "$work/master.key"
export EXTDATA_MASTER_KEY_FILE=$work/master.key
new_pg_store() {  # database → prints the store URL of a new, empty database
  pg_sql "CREATE DATABASE $1 OWNER extdata" >&2
  echo "postgresql://extdata@127.0.0.1:$PG_PORT/$1?sslmode=disable"
}
pg_commits() { pg_sql "SELECT xact_commit FROM pg_stat_database WHERE datname='$1'"; }
echo "PostgreSQL 15 on port $PG_PORT (fsync $(pg_sql 'SHOW fsync'))" >&2

has_step() { [[ " $STEPS " == *" $1 "* ]]; }
report=$work/report.md
: >"$report"

# --- options throughput: SQLite versus PostgreSQL ----------------------------------------
if has_step throughput; then
  start_graphsim "$ITEMS"
  sharepoint_config "$work/customers.yaml"
  tp_pg=$(new_pg_store throughput)
  declare -A store_args=([sqlite]="--data $work/tp-sqlite" [pg]="--data $work/tp-pg --store $tp_pg")
  declare -A url token pid
  for store in sqlite pg; do
    # shellcheck disable=SC2086 # the store's arguments are words
    "$EXTDATA" ${store_args[$store]} apply "$work/customers.yaml" >/dev/null
    # shellcheck disable=SC2086
    token[$store]=$("$EXTDATA" ${store_args[$store]} token create --role reader --label bench 2>/dev/null)
    # shellcheck disable=SC2086
    serve "tp-$store" ${store_args[$store]}
    url[$store]=$EXTDATA_URL pid[$store]=$extdata_pid
    curl -sS --fail -H "Authorization: Bearer ${token[$store]}" -o "$work/tp-$store.json" \
      "${url[$store]}/api/v1/fields/customer/options?q=ab&limit=20"
  done
  cmp <(jq -S '{total, options}' "$work/tp-sqlite.json") <(jq -S '{total, options}' "$work/tp-pg.json") ||
    { echo "the two stores answer differently" >&2; exit 1; }
  echo "throughput: $ITEMS records, total $(jq .total "$work/tp-pg.json") for q=ab" >&2
  : >"$work/results"
  commits_before=$(pg_commits throughput) load_started=$(now_ns)
  for run in $(seq 1 "$RUNS"); do
    echo "throughput run $run/$RUNS" >&2
    order="sqlite pg"
    ((run % 2 == 0)) && order="pg sqlite"
    for store in $order; do
      for query in "q=ab&limit=20" "limit=20"; do
        run_wrk "$store-${query%%&*}" "${url[$store]}/api/v1/fields/customer/options?$query" \
          -H "Authorization: Bearer ${token[$store]}"
      done
      note_load
    done
  done
  load_seconds=$(seconds "$load_started" "$(now_ns)")
  commits=$(($(pg_commits throughput) - commits_before))
  for name in sqlite-q=ab pg-q=ab sqlite-limit=20 pg-limit=20; do
    for col in 2 3 4; do awk -v n="$name" -v c=$col '$1==n {print $c}' "$work/results" | median; done |
      paste -sd' ' | sed "s/^/$name /"
  done >"$work/medians"
  cp "$work/results" "$work/throughput-runs"
  {
    echo "### Options throughput, one instance: SQLite vs PostgreSQL ($ITEMS records)"
    echo
    echo "wrk -t2 -c64 -d$DURATION --latency, reader token, GET /api/v1/fields/customer/options?…; medians of $RUNS alternating runs"
    echo
    echo "| query | SQLite req/s | PostgreSQL req/s | PG / SQLite | SQLite p99 | PG p99 |"
    echo "|---|---|---|---|---|---|"
    awk '{r[$1]=$2; p99[$1]=$4}
      END {
        split("q=ab limit=20", qs, " ")
        for (i = 1; i <= 2; i++) { q = qs[i]; s = "sqlite-" q; p = "pg-" q
          printf "| `%s` | %.0f | %.0f | **%.3f×** | %.2f ms | %.2f ms |\n", (q == "q=ab" ? "q=ab&limit=20" : q), r[s], r[p], r[p] / r[s], p99[s], p99[p] }
      }' "$work/medians"
    echo
    echo "PostgreSQL transactions committed during the $load_seconds s of load: $commits."
    echo
    echo "raw runs (name req/s p50_ms p99_ms):"
    echo
    sed 's/^/    /' "$work/throughput-runs"
    echo
  } >>"$report"
  kill "${pid[sqlite]}" "${pid[pg]}" "$graphsim_pid"
  wait "${pid[sqlite]}" "${pid[pg]}" "$graphsim_pid" 2>/dev/null || true
fi

# --- apply of SOURCES sources: SQLite versus PostgreSQL ----------------------------------
if has_step apply; then
  GRAPHSIM_URL=http://127.0.0.1:9  # apply fetches nothing; the URL is only stored
  sources_config() {  # changed_index: a document of SOURCES sources and fields
    python3 - "$SOURCES" "$1" "$GRAPHSIM_URL" <<'PY'
import sys
n, changed, g = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = ["sources:"]
for i in range(n):
    lst = "Customers" if i != changed else "Customers-changed"
    out += [f"  - name: list-{i:04d}", "    type: sharepoint-list",
            "    tenant: contoso.onmicrosoft.com",
            f"    client_id: 11111111-1111-4111-8111-{i:012d}",
            "    client_secret: ${env:BENCH_SECRET}",
            f"    site: https://contoso.sharepoint.com/sites/Site{i % 50}",
            f"    list: {lst}", f"    authority: {g}", f"    graph: {g}/v1.0", "    cache_ttl: 1h"]
out.append("fields:")
for i in range(n):
    out += [f"  - name: field-{i:04d}", f"    source: list-{i:04d}",
            '    label: "{fields.Title} ({fields.Country})"', '    value: "{id}"']
print("\n".join(out))
PY
  }
  sources_config -1 >"$work/sources.yaml"
  sources_config $((SOURCES / 2)) >"$work/sources-changed.yaml"
  timed_apply() {  # name file store-args... → appends "name seconds"
    local name=$1 file=$2 started
    shift 2
    started=$(now_ns)
    "$EXTDATA" "$@" apply "$file" >"$work/apply.out" 2>&1 || { cat "$work/apply.out" >&2; exit 1; }
    echo "$name $(seconds "$started" "$(now_ns)")" >>"$work/apply-results"
    echo "  $(tail -1 "$work/apply-results") ($(tail -1 "$work/apply.out"))" >&2
  }
  : >"$work/apply-results"
  for run in $(seq 1 "$RUNS"); do
    echo "apply run $run/$RUNS" >&2
    order="sqlite pg"
    ((run % 2 == 0)) && order="pg sqlite"
    for store in $order; do
      if [[ $store == sqlite ]]; then
        args=(--data "$work/apply-sqlite-$run")
      else
        args=(--data "$work/apply-pg-$run" --store "$(new_pg_store "apply_$run")")
      fi
      "$EXTDATA" "${args[@]}" init >/dev/null
      timed_apply "$store-fresh" "$work/sources.yaml" "${args[@]}"
      timed_apply "$store-one-changed" "$work/sources-changed.yaml" "${args[@]}"
      note_load
    done
  done
  {
    echo "### \`extdata apply\` of $SOURCES sources and $SOURCES fields: SQLite vs PostgreSQL"
    echo
    echo "wall time of the command (process start, store open, one transaction); medians of $RUNS alternating runs"
    echo
    echo "| apply | SQLite | PostgreSQL | PG / SQLite |"
    echo "|---|---|---|---|"
    for what in fresh one-changed; do
      s=$(awk -v n="sqlite-$what" '$1==n {print $2}' "$work/apply-results" | median)
      p=$(awk -v n="pg-$what" '$1==n {print $2}' "$work/apply-results" | median)
      label="into an empty store (all created)"
      [[ $what == one-changed ]] && label="again with one source changed (1 updated, the rest unchanged)"
      printf '| %s | %.3f s | %.3f s | **%.2f×** |\n' "$label" "$s" "$p" "$(echo "$p / $s" | bc -l)"
    done
    echo
    echo "raw runs (name seconds):"
    echo
    sed 's/^/    /' "$work/apply-results"
    echo
  } >>"$report"
fi

# --- a new instance joins a cluster holding BIG records ----------------------------------
if has_step join; then
  start_graphsim "$BIG"
  sharepoint_config "$work/customers.yaml"
  join_store=$(new_pg_store joining)
  join_args=(--store "$join_store")
  "$EXTDATA" --data "$work/join-a" "${join_args[@]}" apply "$work/customers.yaml" >/dev/null
  serve join-a --data "$work/join-a" "${join_args[@]}" -- --anonymous-read
  a_url=$EXTDATA_URL a_pid=$extdata_pid
  echo "join: instance A fetches $BIG records from graphsim" >&2
  started=$(now_ns)
  curl -sS --fail -o "$work/join-a.json" "$a_url/api/v1/fields/customer/options?q=ab&limit=20"
  a_first=$(seconds "$started" "$(now_ns)")
  a_total=$(jq .total "$work/join-a.json")
  note_load
  # A writes the snapshot after the fetch: B is started once it is committed.
  for _ in $(seq 1 36000); do
    [[ $(PG_DB=joining pg_sql "SELECT count(*) FROM snapshots WHERE records>=$BIG") == 1 ]] && break
    kill -0 "$a_pid" || { echo "instance A died" >&2; exit 1; }
    sleep 0.05
  done
  a_stored=$(seconds "$started" "$(now_ns)")
  # A then stores the field's option table beside the snapshot in the background (docs/fields.md,
  # "Restart"), as a running cluster member has long done when another joins: wait for it.
  for _ in $(seq 1 36000); do
    saved=$(curl -sS "$a_url/metrics" | awk '/^extdata_cache_derived_saved_total/ {s+=$2} END {print s+0}')
    [[ $saved -ge 1 ]] && break
    kill -0 "$a_pid" || { echo "instance A died" >&2; exit 1; }
    sleep 0.05
  done
  a_table_stored=$(seconds "$started" "$(now_ns)")
  snapshot_mb=$(PG_DB=joining pg_sql "SELECT pg_total_relation_size('snapshot_pieces') / 1048576")
  a_rss=$(rss_kb "$a_pid") a_hwm=$(hwm_kb "$a_pid")
  note_load
  graph_before=$(graphsim_counter .graph_requests.total)
  tokens_before=$(graphsim_counter .token_requests.total)
  echo "join: snapshot stored ($snapshot_mb MB); instance B starts" >&2
  serve join-b --data "$work/join-b" "${join_args[@]}" -- --anonymous-read
  b_url=$EXTDATA_URL b_pid=$extdata_pid
  b_listening=$(seconds "$serve_started_ns" "$serve_listening_ns")
  b_listening_rss=$(rss_kb "$b_pid")
  curl -sS --fail -o "$work/join-b.json" "$b_url/api/v1/fields/customer/options?q=ab&limit=20"
  b_first=$(seconds "$serve_started_ns" "$(now_ns)")
  b_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$b_pid/stat")
  note_load
  b_total=$(jq .total "$work/join-b.json")
  [[ $b_total == "$a_total" ]] || { echo "B answers total $b_total, A $a_total" >&2; exit 1; }
  cmp <(jq -S .options "$work/join-a.json") <(jq -S .options "$work/join-b.json") ||
    { echo "B's options differ from A's" >&2; exit 1; }
  # B may answer from the option table A stored (docs/fields.md, "Restart") while the records
  # load in the background: wait for them too, then check that nothing was fetched upstream.
  tables_loaded=$(curl -sS "$b_url/metrics" |
    awk '/^extdata_fields_tables_loaded_total/ {s+=$2} END {print s+0}')
  for _ in $(seq 1 36000); do
    from_store=$(curl -sS "$b_url/metrics" |
      awk '/^extdata_cache_snapshots_loaded_from_store_total\{.*first_use/ {s+=$2} END {print s+0}')
    [[ $from_store -ge 1 ]] && break
    kill -0 "$b_pid" || { echo "instance B died" >&2; exit 1; }
    sleep 0.05
  done
  b_loaded=$(seconds "$serve_started_ns" "$(now_ns)")
  [[ $from_store -ge 1 ]] || { echo "B did not count a snapshot loaded from the store" >&2; exit 1; }
  graph_after=$(graphsim_counter .graph_requests.total)
  tokens_after=$(graphsim_counter .token_requests.total)
  [[ $graph_after == "$graph_before" && $tokens_after == "$tokens_before" ]] ||
    { echo "graphsim was asked while B joined: graph $graph_before → $graph_after, tokens $tokens_before → $tokens_after" >&2; exit 1; }
  started=$(now_ns)
  curl -sS --fail -o /dev/null "$b_url/api/v1/fields/customer/options?q=zz&limit=20"
  b_second=$(seconds "$started" "$(now_ns)")
  b_rss=$(rss_kb "$b_pid") b_hwm=$(hwm_kb "$b_pid")
  # What reading the snapshot out of PostgreSQL costs on its own (psql, binary COPY, discarded):
  # the part of B's first answer that is the store's.
  started=$(now_ns)
  PG_DB=joining pg_sql "COPY (SELECT data FROM snapshot_pieces ORDER BY key, seq) TO STDOUT (FORMAT binary)" >/dev/null
  raw_read=$(seconds "$started" "$(now_ns)")
  {
    echo "### A new instance joins a cluster holding $BIG records (PostgreSQL store)"
    echo
    echo "| | time | RSS | peak RSS |"
    echo "|---|---|---|---|"
    printf '| A: first answer (fetch of %d items from graphsim, option table) | %.1f s | | |\n' "$BIG" "$a_first"
    printf '| A: snapshot committed in PostgreSQL (%s MB of pieces), from the first request | %.1f s | %s MB | %s MB |\n' \
      "$snapshot_mb" "$a_stored" "$(mb "$a_rss")" "$(mb "$a_hwm")"
    printf '| A: option table stored beside it, from the first request | %.1f s | | |\n' "$a_table_stored"
    printf '| **B: start → listening** | **%.2f s** | %s MB | |\n' "$b_listening" "$(mb "$b_listening_rss")"
    printf '| **B: start → first options answer** (from the option table A stored; records still loading) | **%.1f s** | %s MB | %s MB |\n' \
      "$b_first" "$(mb "$b_rss")" "$(mb "$b_hwm")"
    printf '| B: start → its records loaded from the store (in the background) | %.1f s | | |\n' "$b_loaded"
    printf '| B: the next request (`q=zz`) | %.3f s | | |\n' "$b_second"
    printf '| the snapshot pieces read by psql alone (binary COPY to /dev/null) | %.1f s | | |\n' "$raw_read"
    echo
    echo "B's CPU time (user + system, all threads) until its first answer: $b_cpu s. Stored option tables B loaded: $tables_loaded."
    echo
    echo "B's answer: total $b_total, options equal to A's. graphsim while B joined: Graph requests $graph_before → $graph_after, token requests $tokens_before → $tokens_after (no upstream fetch); B's extdata_cache_snapshots_loaded_from_store_total{reason=\"first_use\"}: $from_store."
    echo
  } >>"$report"
fi

echo
echo "## bench/run-scale-out.sh (STEPS=\"$STEPS\" RUNS=$RUNS), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "load average (1 min) sampled during the run: ${loads[*]:-none}"
echo
cat "$report"
