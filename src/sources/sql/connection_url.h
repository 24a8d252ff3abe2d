#pragma once
// `connection` URLs of the drivers libpq does not parse for us (mysql://, mariadb://):
// scheme://user@host:port/database?option=value. A password in the user part is reported, not
// kept: it belongs in the `password` secret.
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace extdata::sources::sql {

struct ConnectionUrl {
  std::string scheme, user, host, database;
  int port = 0;  // 0: the driver's default
  bool has_password = false;
  std::map<std::string, std::string> options;
};

// Errors: sql.bad_connection (naming what is wrong), sql.password_in_url.
Result<ConnectionUrl> parse_connection_url(const std::string& text);

// ODBC connection strings: "DSN=crm;UID=app" or "Driver={...};Server=db;Database=crm" — keys
// case-insensitive, values optionally in {braces} (where ';' may appear and '}}' is a '}').
// Errors: sql.bad_connection, sql.password_in_url (a PWD or Password key).
// A key given twice is refused: drivers differ in which one they take, so a check of one could
// be bypassed by the other.
Result<std::map<std::string, std::string>> parse_odbc_string(const std::string& text);

// The same string as its entries, in order, with keys as written (for the text extdata passes
// to the driver after pinning hosts and paths) and odbc_string to write them back.
struct OdbcEntry {
  std::string key;    // as written
  std::string name;   // lower case
  std::string value;  // without braces
};
Result<std::vector<OdbcEntry>> parse_odbc_entries(const std::string& text);
std::string odbc_string(const std::vector<OdbcEntry>& entries);

}  // namespace extdata::sources::sql
