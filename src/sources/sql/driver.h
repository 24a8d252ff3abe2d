#pragma once
// The database seam of the sql source: a Driver opens Connections; a Connection runs one
// read-only statement with bound parameters and writes each row into a RowWriter. One file per
// driver (postgres.cpp, mysql.cpp, sqlite.cpp, odbc.cpp); tests run them against real servers.
//
// Every connection a driver opens is read-only for its whole life (PostgreSQL
// default_transaction_read_only + READ ONLY transactions, MariaDB/MySQL
// SESSION TRANSACTION READ ONLY, SQLite SQLITE_OPEN_READONLY + PRAGMA query_only, ODBC
// SQL_MODE_READ_ONLY + a transaction that is always rolled back) and has a statement timeout.
// Errors are translated into sql.* codes with a hint (errors.h).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "sources/sql/row_writer.h"
#include "sources/sql/sql_query.h"

namespace extdata::sources::sql {

// One bound parameter: its value, or nullopt for SQL NULL.
using Parameter = std::optional<std::string>;

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs `text` (with the dialect's placeholders) with `parameters` bound in order; each row
  // goes to `out` (whose errors, e.g. sql.too_many_rows, stop the statement).
  virtual Status run(const std::string& text, const std::vector<Parameter>& parameters,
                     RowWriter& out) = 0;
  // False once the connection is known to be broken (server restarted, network dropped).
  virtual bool usable() const = 0;
};

struct DriverOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds statement_timeout{30'000};
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual Dialect dialect() const = 0;
  // Opens a connection; the host passes the network policy first.
  virtual Result<std::unique_ptr<Connection>> connect() = 0;
  // The connection as shown in `source test` (no password).
  virtual std::string describe() const = 0;
  // Catalog queries for `extdata sql tables|columns` (`:table` in the columns query).
  virtual std::string tables_query() const = 0;
  virtual std::string columns_query() const = 0;
};

// Connection errors that may go away on a new connection (the server restarted): the pool
// retries once with a fresh connection when a reused one fails with one of these.
bool is_connection_lost(const Error& e);

}  // namespace extdata::sources::sql
