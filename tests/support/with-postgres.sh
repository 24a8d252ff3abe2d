#!/usr/bin/env bash
# Runs a command (a unit test binary) against a PostgreSQL 15 started for it
# (tests/support/db-servers.sh: a temp dir, a free port on 127.0.0.1, an unprivileged user when
# run as root), and stops the server afterwards. The command finds the server in
#   EXTDATA_TEST_PG_HOST  the socket directory (superuser "postgres", no password)
#   EXTDATA_TEST_PG_PORT  the port
#   EXTDATA_TEST_PG_STOP, EXTDATA_TEST_PG_START  commands that stop and start the server again
#                         (same data, same port)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DB_WORK=$(mktemp -d)
# shellcheck source=db-servers.sh
source "$here/db-servers.sh"
trap 'db_stop_all; rm -rf "$DB_WORK"' EXIT
db_start_postgres || exit 1
export EXTDATA_TEST_PG_HOST=$PG_DIR EXTDATA_TEST_PG_PORT=$PG_PORT
again="source $here/db-servers.sh; DB_WORK=$DB_WORK PG_DIR=$PG_DIR PG_PORT=$PG_PORT"
export EXTDATA_TEST_PG_STOP="bash -c '$again; db_stop_postgres'"
export EXTDATA_TEST_PG_START="bash -c '$again; db_start_postgres'"
"$@"
