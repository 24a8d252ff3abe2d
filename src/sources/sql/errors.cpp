#include "sources/sql/errors.h"

#include <array>
#include <utility>

#include "core/strings.h"
#include "sources/sql/driver.h"

namespace extdata::sources::sql {

namespace {

struct Hint {
  const char* code;
  const char* hint;
};

constexpr std::array kHints = {
    Hint{"sql.auth_failed",
         "check the user in connection and the password (a secret: set it again with "
         "password); the server's authentication rules (pg_hba.conf, GRANTs) may refuse the host"},
    Hint{"sql.unknown_database",
         "check the database name in connection; `extdata sql tables SOURCE` works once it "
         "connects"},
    Hint{"sql.unknown_relation",
         "check the table name and its schema; `extdata sql tables SOURCE` lists what the user "
         "can see"},
    Hint{"sql.permission_denied",
         "grant the user SELECT on the tables of the query (and USAGE on their schema)"},
    Hint{"sql.timeout",
         "make the query cheaper (an index on the WHERE columns, fewer rows) or raise "
         "statement_timeout / connect_timeout"},
    Hint{"sql.read_only",
         "a source only reads: the session is read-only, so INSERT, UPDATE, DELETE and DDL are "
         "refused; write a SELECT"},
    Hint{"sql.unreachable",
         "check host and port in connection, that the server runs and that a firewall lets "
         "extdata through"},
    Hint{"sql.connection_lost",
         "the server closed the connection (restarted or stopped); the next fetch connects "
         "again"},
    Hint{"sql.query_failed", "the database's message says what it refused; fix the query"},
};

bool contains(const std::string& text, std::string_view part) {
  return lower(text).find(part) != std::string::npos;
}

// What to do about a TLS failure, from the client library's message (libpq, MariaDB, ODBC).
std::string tls_hint(const std::string& m) {
  if (contains(m, "no encryption"))
    return "the server accepts this user only over TLS (hostssl in pg_hba.conf): set sslmode "
           "to verify-full (with ca_bundle) or require";
  if (contains(m, "certificate verify failed") || contains(m, "unable to get local issuer") ||
      contains(m, "self-signed certificate") || contains(m, "self signed certificate"))
    return "the server's certificate is not signed by a CA extdata trusts: set ca_bundle to the "
           "PEM file of the CA that signed it (not the server's own certificate)";
  if (contains(m, "does not match host name") || contains(m, "hostname mismatch"))
    return "the server's certificate is for another name: connect by a name the certificate "
           "lists (its subjectAltName), or use sslmode verify-ca to check the CA only";
  if (contains(m, "server does not support ssl") || contains(m, "ssl is not enabled") ||
      contains(m, "ssl connection is required"))
    return "the server does not offer TLS: enable ssl on the server, or set sslmode to prefer "
           "or disable where the network is trusted";
  if (contains(m, "root certificate file") || contains(m, "could not read root certificate"))
    return "ca_bundle cannot be read: give the path of a readable PEM file of the CA";
  return "check sslmode and ca_bundle (the CA that signed the server's certificate) and that the "
         "host name matches the certificate";
}

}  // namespace

Error database_error(const std::string& code, const std::string& what,
                     const std::string& server_message, const std::string& sqlstate) {
  std::string message(trim(server_message));
  Error e(code, message.empty() ? what : what + ": " + message);
  for (const auto& h : kHints)
    if (code == h.code) e.hint = h.hint;
  if (code == "sql.tls") e.hint = tls_hint(message);
  if (!message.empty()) e.with("upstream_message", message);
  if (!sqlstate.empty()) e.with("sqlstate", sqlstate);
  return e;
}

std::string code_for_sqlstate(const std::string& s) {
  if (s.size() != 5) return "";
  static const std::array<std::pair<const char*, const char*>, 11> exact = {{
      {"28P01", "sql.auth_failed"},
      {"28000", "sql.auth_failed"},
      {"3D000", "sql.unknown_database"},
      {"42P01", "sql.unknown_relation"},
      {"42S02", "sql.unknown_relation"},
      {"42501", "sql.permission_denied"},
      {"42000", ""},
      {"57014", "sql.timeout"},
      {"HYT00", "sql.timeout"},
      {"25006", "sql.read_only"},
      {"57P01", "sql.connection_lost"},
  }};
  for (const auto& [state, code] : exact)
    if (s == state) return code;
  if (s == "57P02" || s == "57P03" || s.compare(0, 2, "08") == 0) return "sql.connection_lost";
  return "";
}

std::string code_for_connect_message(const std::string& m) {
  // "no pg_hba.conf entry for host …, no encryption": refused for want of TLS (hostssl).
  if (contains(m, "no pg_hba.conf entry") && contains(m, "no encryption")) return "sql.tls";
  if (contains(m, "password authentication failed") || contains(m, "no pg_hba.conf entry") ||
      contains(m, "access denied for user") || contains(m, "authentication failed"))
    return "sql.auth_failed";
  if ((contains(m, "database") && contains(m, "does not exist")) || contains(m, "unknown database"))
    return "sql.unknown_database";
  if (contains(m, "timeout expired") || contains(m, "timed out")) return "sql.timeout";
  if (contains(m, "ssl") || contains(m, "tls") || contains(m, "certificate")) return "sql.tls";
  return "sql.unreachable";
}

bool is_connection_lost(const Error& e) {
  return e.code == "sql.connection_lost";
}

}  // namespace extdata::sources::sql
