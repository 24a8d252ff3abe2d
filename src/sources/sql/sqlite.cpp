// driver: sqlite — a database file under the operator's files roots (--files-root, as for
// `type: file`: whoever may write a source must not read extdata's own store or any other file
// of the machine), opened read-only (SQLITE_OPEN_READONLY, no URI names, so `path` cannot ask
// for another mode) with PRAGMA query_only, a busy timeout and the statement timeout enforced
// by a progress handler.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>

#include "core/strings.h"
#include "sources/file/files_root.h"
#include "sources/sql/drivers.h"
#include "sources/sql/errors.h"

namespace extdata::sources::sql {

namespace {

using Steady = std::chrono::steady_clock;

bool declared_boolean(const char* decl) {
  if (!decl) return false;
  const std::string d = lower(decl);
  return d == "boolean" || d == "bool";
}

bool declared_timestamp(const char* decl) {
  if (!decl) return false;
  const std::string d = lower(decl);
  return d.find("timestamp") != std::string::npos || d.find("datetime") != std::string::npos;
}

std::string code_for_sqlite(int rc, const std::string& message) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
      return "sql.read_only";
    case SQLITE_AUTH:
    case SQLITE_PERM:
      return "sql.permission_denied";
    case SQLITE_INTERRUPT:
    case SQLITE_BUSY:
      return "sql.timeout";
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
      return "sql.unknown_database";
    default:
      break;
  }
  if (message.rfind("no such table", 0) == 0) return "sql.unknown_relation";
  if (message.find("attempt to write a readonly database") != std::string::npos)
    return "sql.read_only";
  return "sql.query_failed";
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, DriverOptions o) : db_(db), options_(o) {
    sqlite3_progress_handler(db_, 1000, &SqliteConnection::over_time, this);
  }
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  bool usable() const override { return true; }

  Status run(const std::string& text, const std::vector<Parameter>& parameters,
             RowWriter& out) override {
    deadline_ = Steady::now() + options_.statement_timeout;
    sqlite3_stmt* stmt = nullptr;
    int rc =
        sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()), 0, &stmt, nullptr);
    if (rc != SQLITE_OK) return failure(rc);
    Status s = stream(stmt, parameters, out);
    sqlite3_finalize(stmt);
    return s;
  }

 private:
  static int over_time(void* self) {
    return Steady::now() > static_cast<SqliteConnection*>(self)->deadline_ ? 1 : 0;
  }

  Error failure(int rc) const {
    const std::string message = sqlite3_errmsg(db_);
    return database_error(code_for_sqlite(rc, message), "SQLite refused the query", message);
  }

  Status stream(sqlite3_stmt* stmt, const std::vector<Parameter>& parameters, RowWriter& out) {
    if (sqlite3_stmt_readonly(stmt) == 0)
      return database_error("sql.read_only", "SQLite refused the query",
                            "the statement writes to the database");
    for (size_t i = 0; i < parameters.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const int rc = parameters[i] ? sqlite3_bind_text(stmt, index, parameters[i]->data(),
                                                       static_cast<int>(parameters[i]->size()),
                                                       SQLITE_TRANSIENT)
                                   : sqlite3_bind_null(stmt, index);
      if (rc != SQLITE_OK) return failure(rc);
    }
    const int n = sqlite3_column_count(stmt);
    std::vector<std::string> names;
    for (int c = 0; c < n; ++c) names.push_back(sqlite3_column_name(stmt, c));
    out.set_columns(names);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      EXTDATA_TRY(out.begin_row());
      for (int c = 0; c < n; ++c) write_value(stmt, c, out);
      EXTDATA_TRY(out.end_row());
    }
    if (rc != SQLITE_DONE) return failure(rc);
    return ok_status();
  }

  static void write_value(sqlite3_stmt* stmt, int c, RowWriter& out) {
    const char* decl = sqlite3_column_decltype(stmt, c);
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_NULL:
        return out.null();
      case SQLITE_INTEGER:
        if (declared_boolean(decl)) return out.boolean(sqlite3_column_int64(stmt, c) != 0);
        return out.integer(sqlite3_column_int64(stmt, c));
      case SQLITE_FLOAT:
        return out.real(sqlite3_column_double(stmt, c));
      case SQLITE_BLOB:
        return out.bytes(std::string_view(static_cast<const char*>(sqlite3_column_blob(stmt, c)),
                                          static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
      default: {
        const std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                                    static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
        if (declared_timestamp(decl)) return out.timestamp(text, false);
        return out.string(text);
      }
    }
  }

  sqlite3* db_;
  DriverOptions options_;
  Steady::time_point deadline_;
};

class SqliteDriver final : public Driver {
 public:
  SqliteDriver(std::string path, DriverOptions o) : path_(std::move(path)), options_(o) {}

  Dialect dialect() const override { return Dialect::sqlite; }
  std::string describe() const override { return "sqlite:" + path_ + " (read-only)"; }
  std::string tables_query() const override {
    return "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT "
           "LIKE 'sqlite_%' ORDER BY name";
  }
  std::string columns_query() const override {
    return "SELECT name, type, \"notnull\" = 0 AS nullable FROM pragma_table_info(:table) "
           "ORDER BY cid";
  }

  Result<std::unique_ptr<Connection>> connect() override {
    // Checked again now, on the file's real path (a symlink swapped in since validation), by
    // opening it beneath its root; SQLite then opens that path itself (it needs the name for
    // its journal).
    const auto roots = FilesRoots::process();
    EXTDATA_ASSIGN_OR_RETURN(std::string path, roots->resolve(path_));
    auto fd = roots->open(path);
    if (!fd.ok() && fd.error().code == "file.not_found")
      return database_error("sql.unknown_database", "cannot open SQLite file " + path_,
                            "no such file");
    if (!fd.ok()) return fd.error();
    ::close(*fd);
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return database_error("sql.unknown_database", "cannot open SQLite file " + path_, message);
    }
    sqlite3_busy_timeout(db, static_cast<int>(options_.statement_timeout.count()));
    char* err = nullptr;
    if (sqlite3_exec(db, "PRAGMA query_only = 1", nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string message = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      sqlite3_close_v2(db);
      return database_error("sql.unknown_database", "cannot read SQLite file " + path_, message);
    }
    return std::unique_ptr<Connection>(new SqliteConnection(db, options_));
  }

 private:
  std::string path_;
  DriverOptions options_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_sqlite_driver(const nlohmann::json& spec,
                                                   const DriverOptions& o) {
  const std::string path = spec_text(spec, "path");
  if (path.empty())
    return setting_error("config.missing_key", "path", "driver sqlite needs path",
                         "the database file, e.g. /srv/data/catalogue.db");
  if (!spec_text(spec, "connection").empty())
    return setting_error("sql.bad_connection", "connection",
                         "driver sqlite takes path, not connection", "remove connection");
  EXTDATA_TRY(FilesRoots::process()->resolve(path));  // file.no_root, file.outside_root
  return std::unique_ptr<Driver>(new SqliteDriver(path, o));
}

}  // namespace extdata::sources::sql
