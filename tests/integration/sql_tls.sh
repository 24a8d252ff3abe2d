#!/usr/bin/env bash
# TLS from sql sources to PostgreSQL (docs/sql.md "TLS"): a real PostgreSQL 15 started here
# (tests/support/db-servers.sh) with ssl=on, a throwaway CA and server certificate made with
# openssl in the temporary directory, and pg_hba.conf accepting the application user over TLS
# only (hostssl). Checks what the server saw (pg_stat_ssl of the source's own session) as well
# as what `extdata source test` printed: verify-full with ca_bundle works; a wrong CA, a name
# the certificate does not list, an unreadable ca_bundle and sslmode=disable each fail with
# sql.tls and a hint that says what to change.
#
# Env: EXTDATA_BIN, EXTDATA_SOURCE_DIR (set by ctest). Needs psql, openssl, jq.
set -uo pipefail
: "${EXTDATA_BIN:?}" "${EXTDATA_SOURCE_DIR:?}"
SRC=$EXTDATA_SOURCE_DIR
# "localhost" is the certificate's name; it resolves to 127.0.0.1, which the policy allows.
export EXTDATA_ALLOW_HOSTS=127.0.0.1
unset EXTDATA_DATA EXTDATA_FILES_ROOT

for tool in psql openssl jq python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "FAIL: $tool is required (scripts/install-deps)"
    echo "0 passed, 1 failed"
    exit 1
  }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/extdata-sql-tls.XXXXXX")
DB_WORK=$WORK
# shellcheck source=../support/db-servers.sh
source "$SRC/tests/support/db-servers.sh"
cleanup() {
  db_stop_all
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

. "$SRC/tests/support/checks.sh"

# ------------------------------------------------------------------ certificates
CERTS=$WORK/certs
mkdir -p "$CERTS"
make_ca() { # NAME: a self-signed CA, NAME.key and NAME.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=extdata test $1" -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    >/dev/null 2>&1
}
make_ca ca || die "CA"
make_ca other-ca || die "second CA"
# The server's certificate names localhost only: 127.0.0.1 is not one of its names.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
  -keyout "$CERTS/server.key" -out "$CERTS/server.csr" >/dev/null 2>&1 || die "server key"
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$CERTS/server.ext"
openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
  -CAcreateserial -days 2 -extfile "$CERTS/server.ext" -out "$CERTS/server.pem" \
  >/dev/null 2>&1 || die "server certificate"

# ------------------------------------------------------------------ server
db_start_postgres || die "PostgreSQL did not start"
cp "$CERTS/server.pem" "$CERTS/server.key" "$PG_DIR/data/"
chmod 600 "$PG_DIR/data/server.key"
[[ -n $DB_OWNER ]] && chown "$DB_OWNER" "$PG_DIR/data/server.pem" "$PG_DIR/data/server.key"
# The application user may connect over TLS only; the superuser keeps the local socket.
cat >"$PG_DIR/data/pg_hba.conf" <<'HBA'
local   all   all                   trust
hostssl all   all   127.0.0.1/32    scram-sha-256
HBA
[[ -n $DB_OWNER ]] && chown "$DB_OWNER" "$PG_DIR/data/pg_hba.conf"
pg_sql "ALTER SYSTEM SET ssl = on" || die "ssl on"
pg_sql "ALTER SYSTEM SET ssl_cert_file = 'server.pem'" || die "ssl_cert_file"
pg_sql "ALTER SYSTEM SET ssl_key_file = 'server.key'" || die "ssl_key_file"
pg_sql "SELECT pg_reload_conf()" >/dev/null || die "reload"
# The reload is asynchronous: poll until the server reports TLS on.
for _ in $(seq 100); do [[ $(pg_sql "SHOW ssl") == on ]] && break; sleep 0.05; done
expect_eq "the test server runs with ssl=on" "$(pg_sql "SHOW ssl")" "on"

APP_PASSWORD='S3cret-tls-Passw0rd!'
export PG_APP_PASSWORD=$APP_PASSWORD
pg_sql "CREATE DATABASE crm" || die "create database"
PG_DB=crm pg_sql "CREATE TABLE customers (id int PRIMARY KEY, name text);
  INSERT INTO customers VALUES (1, 'Zoë Müller GmbH'), (2, 'Ñandú S.A.')" || die "table"
PG_DB=crm db_pg_user app "$APP_PASSWORD" crm || die "role"
PG_DB=crm pg_sql "GRANT SELECT ON pg_stat_ssl TO app" >/dev/null 2>&1 || true

# ------------------------------------------------------------------ sources
CFG=$WORK/tls.yaml
# source NAME HOST SSLMODE [CA_BUNDLE]: the source's own session reports its TLS state.
source_yaml() {
  printf '  - name: %s\n    type: sql\n    driver: postgres\n' "$1"
  printf '    connection: "postgresql://app@%s:%s/crm"\n' "$2" "$PG_PORT"
  printf '    password: ${env:PG_APP_PASSWORD}\n    sslmode: %s\n' "$3"
  [[ -n ${4:-} ]] && printf '    ca_bundle: %s\n' "$4"
  printf '    query: "SELECT s.ssl, s.version, c.name FROM pg_stat_ssl s, customers c WHERE s.pid = pg_backend_pid() ORDER BY c.id"\n'
}
{
  echo "sources:"
  source_yaml verify_full localhost verify-full "$CERTS/ca.pem"
  source_yaml verify_ca_by_address 127.0.0.1 verify-ca "$CERTS/ca.pem"
  source_yaml require_only 127.0.0.1 require
  source_yaml wrong_ca localhost verify-full "$CERTS/other-ca.pem"
  source_yaml wrong_name 127.0.0.1 verify-full "$CERTS/ca.pem"
  source_yaml missing_ca localhost verify-full "$WORK/no-such-ca.pem"
  source_yaml no_tls localhost disable
} >"$CFG"

test_source() {
  OUT=$("$EXTDATA_BIN" --output json source test "$1" --config "$CFG" 2>"$WORK/stderr")
  RC=$?
  { echo "$OUT"; cat "$WORK/stderr"; } >>"$WORK/all.out"
}
code() { jq -r '.error.code // "none"' <<<"$OUT"; }
hint() { jq -r '.error.hint // ""' <<<"$OUT"; }

test_source verify_full
expect_eq "verify-full with ca_bundle connects by the certificate's name" "$RC $(jq -r '.records' <<<"$OUT")" "0 2"
expect_eq "the server saw the session over TLS (pg_stat_ssl of the source's own connection)" \
  "$(jq -c '[.sample[0].ssl, (.sample[0].version | test("^TLSv1\\.[23]$")), .sample[0].name]' <<<"$OUT")" \
  '[true,true,"Zoë Müller GmbH"]'

test_source verify_ca_by_address
expect_eq "verify-ca checks the CA only, so an address the certificate does not name works" \
  "$RC $(jq -c '.sample[0].ssl' <<<"$OUT")" "0 true"

test_source require_only
expect_eq "sslmode require encrypts without checking the certificate" \
  "$RC $(jq -c '.sample[0].ssl' <<<"$OUT")" "0 true"

test_source wrong_ca
expect_eq "a certificate from another CA fails with sql.tls" "$RC $(code)" "1 sql.tls"
expect_match "… and the message carries libpq's reason" "$(jq -r '.error.message' <<<"$OUT")" "certificate verify failed"
expect_match "… and the hint says to give the CA that signed it" "$(hint)" "ca_bundle to the PEM file of the CA that signed it"

test_source wrong_name
expect_eq "verify-full to a name the certificate does not list fails with sql.tls" "$RC $(code)" "1 sql.tls"
expect_match "… and the hint names the certificate's names" "$(hint)" "certificate is for another name"

test_source missing_ca
expect_eq "an unreadable ca_bundle fails with sql.tls" "$RC $(code)" "1 sql.tls"
expect_match "… and the hint says ca_bundle cannot be read" "$(hint)" "ca_bundle cannot be read"

test_source no_tls
expect_eq "sslmode disable against a hostssl-only server fails with sql.tls, not a password error" \
  "$RC $(code)" "1 sql.tls"
expect_match "… and the hint says the server wants TLS" "$(hint)" "only over TLS \\(hostssl"
expect_match "… and the message is the server's" "$(jq -r '.error.message' <<<"$OUT")" "no encryption"

# The password never appears in anything printed above.
if grep -qF "$APP_PASSWORD" "$WORK/all.out"; then
  fail "the password is never printed" "found in output"
else
  pass "the password is never printed"
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
