#!/usr/bin/env bash
# Real database servers for tests and benchmarks, from Debian's packages (scripts/install-deps):
# PostgreSQL 15 and MariaDB 10.11, each in its own directory under $DB_WORK, listening on a
# free port on 127.0.0.1 only, run as an unprivileged user when the caller is root (PostgreSQL
# refuses root; CI runs as root). Source this file, then:
#
#   DB_WORK=$(mktemp -d)            # chmod'ed 755 here so the server user can reach it
#   db_start_postgres               # PG_PORT, PG_DIR; superuser "postgres" over the socket
#   pg_sql "CREATE TABLE ..."       # runs SQL as the superuser in database $PG_DB (postgres)
#   db_stop_postgres; db_start_postgres   # a restart keeps the data and the port
#   db_start_mariadb                # MY_PORT, MY_DIR; my_sql "..." as root over the socket
#   db_stop_all                     # the caller's EXIT trap should call it
#
# Password logins (for the tests of sql sources): db_pg_user NAME PASSWORD DB and
# db_my_user NAME PASSWORD DB create a login with SELECT rights only.
# No sleeps for timing: waits are polls of the server's readiness, bounded.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB_RUN=()       # prefix that runs a command as the server user
DB_OWNER=""     # that user, when the caller is root
if [[ $(id -u) -eq 0 ]]; then
  DB_OWNER=nobody
  DB_RUN=(runuser -u "$DB_OWNER" --)
fi

db_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

db_prepare_dir() { # DIR
  mkdir -p "$1"
  chmod 755 "$DB_WORK"
  [[ -n $DB_OWNER ]] && chown -R "$DB_OWNER" "$1"
  return 0
}

# ------------------------------------------------------------------ PostgreSQL
PG_DIR="" PG_PORT="" PG_DB=postgres
db_start_postgres() {
  PG_DIR=${PG_DIR:-$DB_WORK/pg}
  if [[ ! -d $PG_DIR/data ]]; then
    db_prepare_dir "$PG_DIR"
    "${DB_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 || {
      cat "$PG_DIR/initdb.log" >&2
      return 1
    }
  fi
  PG_PORT=${PG_PORT:-$(db_free_port)}
  "${DB_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off ${PG_OPTS:-}" start \
    >"$PG_DIR/pg_ctl.log" 2>&1 || {
    cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2
    return 1
  }
}
db_stop_postgres() {
  [[ -n $PG_DIR && -f $PG_DIR/data/postmaster.pid ]] || return 0
  "${DB_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
}
pg_sql() { # SQL [psql args]: as the superuser in $PG_DB, over the socket
  local sql=$1
  shift
  psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$PG_DB" -At "$@" \
    -c "$sql"
}
db_pg_user() { # NAME PASSWORD DB: a login that may read the public schema of DB
  pg_sql "CREATE ROLE $1 LOGIN PASSWORD '$2'" &&
    PG_DB=$3 pg_sql "GRANT USAGE ON SCHEMA public TO $1;
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO $1"
}

# ------------------------------------------------------------------ MariaDB
MY_DIR="" MY_PORT="" MY_PID=""
db_start_mariadb() {
  MY_DIR=${MY_DIR:-$DB_WORK/my}
  if [[ ! -d $MY_DIR/data ]]; then
    db_prepare_dir "$MY_DIR"
    "${DB_RUN[@]}" mariadb-install-db --no-defaults --datadir="$MY_DIR/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$MY_DIR/install.log" 2>&1 || {
      cat "$MY_DIR/install.log" >&2
      return 1
    }
  fi
  MY_PORT=${MY_PORT:-$(db_free_port)}
  "${DB_RUN[@]}" mariadbd --no-defaults --datadir="$MY_DIR/data" --socket="$MY_DIR/sock" \
    --port="$MY_PORT" --bind-address=127.0.0.1 --pid-file="$MY_DIR/pid" \
    --log-error="$MY_DIR/server.log" --skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
    >"$MY_DIR/stderr.log" 2>&1 &
  MY_PID=$!
  for _ in $(seq 600); do
    mariadb-admin --no-defaults -S "$MY_DIR/sock" -u root ping >/dev/null 2>&1 && return 0
    kill -0 "$MY_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$MY_DIR/server.log" >&2
  return 1
}
db_stop_mariadb() {
  [[ -n $MY_PID ]] || return 0
  kill "$MY_PID" 2>/dev/null
  wait "$MY_PID" 2>/dev/null
  MY_PID=""
}
my_sql() { # SQL [database]
  mariadb --no-defaults -S "$MY_DIR/sock" -u root -N -B ${2:+"$2"} -e "$1"
}
db_my_user() { # NAME PASSWORD DB
  my_sql "CREATE USER '$1'@'%' IDENTIFIED BY '$2'; GRANT SELECT ON \`$3\`.* TO '$1'@'%'"
}

db_stop_all() {
  db_stop_postgres
  db_stop_mariadb
}
