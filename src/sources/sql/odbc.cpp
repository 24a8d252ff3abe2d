// driver: odbc — any ODBC data source through unixODBC (SQL Server, Oracle, … with their
// vendor drivers). The connection is SQL_MODE_READ_ONLY with autocommit off, each fetch's
// transaction starts with SET TRANSACTION READ ONLY where the database knows it, and is rolled
// back, so a driver that ignores the read-only hint still changes nothing. Parameters are bound
// with SQLBindParameter; the statement timeout is SQL_ATTR_QUERY_TIMEOUT.
//
// The connection string may name a DSN (the operator's odbc.ini) or a driver by its name in
// odbcinst.ini; a driver given as a file path is refused (it would load any library). Hosts
// and files named in the string are pinned before the driver sees it (pinned_text): each host
// key is resolved once and checked against the network policy, and the driver gets the checked
// address, so no second DNS answer can redirect it; the SQLite ODBC driver's Database is
// resolved beneath the operator's files roots like the sqlite driver's path (docs/sql.md).
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "sources/file/files_root.h"
#include "sources/sql/connection_url.h"
#include "sources/sql/drivers.h"
#include "sources/sql/errors.h"
#include "sources/sql/network.h"

// After simdjson (through drivers.h): unixODBC's sqltypes.h defines BOOL as a macro.
#include <odbcinst.h>
#include <sql.h>
#include <sqlext.h>

namespace extdata::sources::sql {

namespace {

struct Diagnostic {
  std::string state, message;
};

Diagnostic diagnose(SQLSMALLINT type, SQLHANDLE handle) {
  SQLCHAR state[6] = {0};
  SQLCHAR message[1024] = {0};
  SQLINTEGER native = 0;
  SQLSMALLINT length = 0;
  if (!SQL_SUCCEEDED(
          SQLGetDiagRec(type, handle, 1, state, &native, message, sizeof message, &length)))
    return {"", "the ODBC driver gave no diagnostic"};
  return {reinterpret_cast<char*>(state), reinterpret_cast<char*>(message)};
}

std::string code_for(const Diagnostic& d) {
  std::string code = code_for_sqlstate(d.state);
  if (!code.empty()) return code;
  const std::string m = lower(d.message);
  if (m.find("no such table") != std::string::npos ||
      (m.find("relation") != std::string::npos && m.find("does not exist") != std::string::npos))
    return "sql.unknown_relation";
  if (m.find("read-only") != std::string::npos || m.find("readonly") != std::string::npos)
    return "sql.read_only";
  if (m.find("permission denied") != std::string::npos) return "sql.permission_denied";
  return "sql.query_failed";
}

Error odbc_error(SQLSMALLINT type, SQLHANDLE handle, const std::string& what) {
  const Diagnostic d = diagnose(type, handle);
  return database_error(code_for(d), what, d.message, d.state);
}

bool is_binary(SQLSMALLINT type) {
  return type == SQL_BINARY || type == SQL_VARBINARY || type == SQL_LONGVARBINARY;
}

enum class As { number, boolean, timestamp, bytes, text };

As json_kind(SQLSMALLINT type) {
  switch (type) {
    case SQL_SMALLINT:
    case SQL_INTEGER:
    case SQL_BIGINT:
    case SQL_TINYINT:
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE:
    case SQL_DECIMAL:
    case SQL_NUMERIC:
      return As::number;
    case SQL_BIT:
      return As::boolean;
    case SQL_TYPE_TIMESTAMP:
      return As::timestamp;
    default:
      return is_binary(type) ? As::bytes : As::text;
  }
}

class OdbcConnection final : public Connection {
 public:
  OdbcConnection(SQLHENV env, SQLHDBC dbc, DriverOptions o) : env_(env), dbc_(dbc), options_(o) {}
  ~OdbcConnection() override {
    SQLDisconnect(dbc_);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
    SQLFreeHandle(SQL_HANDLE_ENV, env_);
  }

  bool usable() const override { return !broken_; }

  Status run(const std::string& text, const std::vector<Parameter>& parameters,
             RowWriter& out) override {
    read_only_transaction();
    SQLHSTMT st = SQL_NULL_HSTMT;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &st)))
      return failed(odbc_error(SQL_HANDLE_DBC, dbc_, "the ODBC data source refused the query"));
    Status s = stream(st, text, parameters, out);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK))) broken_ = true;
    return s;
  }

 private:
  // Where the database knows it (PostgreSQL, Oracle, MySQL), the transaction the query runs in
  // is read-only, so a writing query fails instead of being rolled back; a database that does
  // not (SQL Server, SQLite) answers an error, which is ignored: the rollback still holds.
  void read_only_transaction() {
    SQLHSTMT st = SQL_NULL_HSTMT;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &st))) return;
    SQLExecDirect(st, (SQLCHAR*)"SET TRANSACTION READ ONLY", SQL_NTS);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
  }

  Error failed(Error e) {
    if (is_connection_lost(e)) broken_ = true;
    return e;
  }
  Error statement_error(SQLHSTMT st) {
    return failed(odbc_error(SQL_HANDLE_STMT, st, "the ODBC data source refused the query"));
  }

  Status stream(SQLHSTMT st, const std::string& text, const std::vector<Parameter>& parameters,
                RowWriter& out) {
    const auto timeout_s = static_cast<SQLULEN>((options_.statement_timeout.count() + 999) / 1000);
    SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT, reinterpret_cast<SQLPOINTER>(timeout_s), 0);
    if (!SQL_SUCCEEDED(SQLPrepare(st, (SQLCHAR*)text.c_str(), SQL_NTS))) return statement_error(st);
    std::vector<SQLLEN> indicators(parameters.size());
    for (size_t i = 0; i < parameters.size(); ++i) {
      const auto& p = parameters[i];
      indicators[i] = p ? static_cast<SQLLEN>(p->size()) : SQL_NULL_DATA;
      const SQLULEN size = p ? std::max<size_t>(1, p->size()) : 1;
      if (!SQL_SUCCEEDED(SQLBindParameter(st, static_cast<SQLUSMALLINT>(i + 1), SQL_PARAM_INPUT,
                                          SQL_C_CHAR, SQL_VARCHAR, size, 0,
                                          p ? (SQLPOINTER)p->data() : nullptr,
                                          p ? static_cast<SQLLEN>(p->size()) : 0, &indicators[i])))
        return statement_error(st);
    }
    const SQLRETURN rc = SQLExecute(st);
    if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) return statement_error(st);
    SQLSMALLINT n = 0;
    SQLNumResultCols(st, &n);
    std::vector<std::string> names;
    std::vector<As> kinds;
    for (SQLSMALLINT c = 1; c <= n; ++c) {
      SQLCHAR name[256] = {0};
      SQLSMALLINT name_length = 0, type = 0, digits = 0, nullable = 0;
      SQLULEN size = 0;
      SQLDescribeCol(st, static_cast<SQLUSMALLINT>(c), name, sizeof name, &name_length, &type,
                     &size, &digits, &nullable);
      names.emplace_back(reinterpret_cast<char*>(name));
      kinds.push_back(json_kind(type));
    }
    out.set_columns(names);
    std::string value;
    for (;;) {
      const SQLRETURN f = SQLFetch(st);
      if (f == SQL_NO_DATA) return ok_status();
      if (!SQL_SUCCEEDED(f)) return statement_error(st);
      EXTDATA_TRY(out.begin_row());
      for (SQLSMALLINT c = 1; c <= n; ++c) {
        const As kind = kinds[static_cast<size_t>(c - 1)];
        EXTDATA_ASSIGN_OR_RETURN(bool is_null, get(st, c, kind == As::bytes, value));
        if (is_null) {
          out.null();
          continue;
        }
        write(out, kind, value);
      }
      EXTDATA_TRY(out.end_row());
    }
  }

  // One column of the current row, read in pieces (SQLGetData) whatever its length.
  Result<bool> get(SQLHSTMT st, SQLSMALLINT column, bool binary, std::string& value) {
    value.clear();
    char buffer[4096];
    const SQLSMALLINT c_type = binary ? SQL_C_BINARY : SQL_C_CHAR;
    for (;;) {
      SQLLEN indicator = 0;
      const SQLRETURN rc = SQLGetData(st, static_cast<SQLUSMALLINT>(column), c_type, buffer,
                                      sizeof buffer, &indicator);
      if (rc == SQL_NO_DATA) return false;
      if (!SQL_SUCCEEDED(rc)) return statement_error(st);
      if (indicator == SQL_NULL_DATA) return true;
      const size_t room = binary ? sizeof buffer : sizeof buffer - 1;  // text ends with NUL
      const size_t got = indicator == SQL_NO_TOTAL || static_cast<size_t>(indicator) > room
                             ? room
                             : static_cast<size_t>(indicator);
      value.append(buffer, got);
      if (rc == SQL_SUCCESS) return false;  // the last piece
    }
  }

  static void write(RowWriter& out, As kind, std::string_view v) {
    switch (kind) {
      case As::number:
        return out.number(v);
      case As::boolean:
        return v == "0" ? out.boolean(false) : v == "1" ? out.boolean(true) : out.string(v);
      case As::timestamp:
        return out.timestamp(v, false);
      case As::bytes:
        return out.bytes(v);
      case As::text:
        return out.string(v);
    }
  }

  SQLHENV env_;
  SQLHDBC dbc_;
  DriverOptions options_;
  bool broken_ = false;
};

// A value in an ODBC connection string: in braces, '}' doubled.
std::string braced(const std::string& value) {
  std::string out = "{";
  for (char c : value) {
    out += c;
    if (c == '}') out += '}';
  }
  return out + "}";
}

// Keys that name the database host in the drivers extdata knows: Server (SQL Server, MySQL,
// psqlodbc), Servername (psqlodbc), Host, Address/Addr (SQL Server's alternatives).
const std::set<std::string> kHostKeys = {"server", "servername", "host", "address", "addr"};

std::string profile(const std::string& section, const char* key, const char* file) {
  char value[1024] = {0};
  SQLGetPrivateProfileString(section.c_str(), key, "", value, sizeof value, file);
  return value;
}

// Which driver the string reaches, for the checks that depend on it: the driver's name (given,
// or the DSN's in odbc.ini) and its library in odbcinst.ini, lower case.
std::string driver_identity(const std::map<std::string, std::string>& keys) {
  std::string name;
  if (auto d = keys.find("driver"); d != keys.end())
    name = d->second;
  else if (auto dsn = keys.find("dsn"); dsn != keys.end())
    name = profile(dsn->second, "Driver", "odbc.ini");
  return lower(name + " " + profile(name, "Driver", "odbcinst.ini"));
}

struct HostPort {
  std::string prefix, host, suffix;  // "tcp:" · name · ",1433"
  int port = 0;
};

HostPort host_port(const std::string& value, const std::map<std::string, std::string>& keys) {
  HostPort hp;
  hp.host = value;
  if (hp.host.rfind("tcp:", 0) == 0) {
    hp.prefix = "tcp:";
    hp.host = hp.host.substr(4);
  }
  if (auto comma = hp.host.find(','); comma != std::string::npos) {
    hp.suffix = hp.host.substr(comma);
    hp.port = std::atoi(hp.host.c_str() + comma + 1);
    hp.host = hp.host.substr(0, comma);
  }
  if (auto p = keys.find("port"); p != keys.end()) hp.port = std::atoi(p->second.c_str());
  return hp;
}

class OdbcDriver final : public Driver {
 public:
  OdbcDriver(std::string text, std::vector<OdbcEntry> entries,
             std::map<std::string, std::string> keys, std::string identity, std::string password,
             DriverOptions o)
      : text_(std::move(text)),
        entries_(std::move(entries)),
        keys_(std::move(keys)),
        identity_(std::move(identity)),
        password_(std::move(password)),
        options_(o) {}

  Dialect dialect() const override { return Dialect::odbc; }

  std::string describe() const override { return "odbc:" + text_; }

  std::string tables_query() const override {
    return "SELECT table_schema AS \"schema\", table_name AS name, table_type AS type FROM "
           "information_schema.tables ORDER BY table_schema, table_name";
  }
  std::string columns_query() const override {
    return "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE "
           "table_name = :table ORDER BY ordinal_position";
  }

  Result<std::unique_ptr<Connection>> connect() override {
    EXTDATA_ASSIGN_OR_RETURN(std::string text, pinned_text());
    SQLHENV env = SQL_NULL_HENV;
    SQLHDBC dbc = SQL_NULL_HDBC;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    const auto login_s = static_cast<SQLULEN>((options_.connect_timeout.count() + 999) / 1000);
    SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(login_s), 0);
    if (!password_.empty()) text += "PWD=" + braced(password_) + ";";
    SQLCHAR out[1024];
    SQLSMALLINT out_length = 0;
    const SQLRETURN rc = SQLDriverConnect(dbc, nullptr, (SQLCHAR*)text.c_str(), SQL_NTS, out,
                                          sizeof out, &out_length, SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
      const Diagnostic d = diagnose(SQL_HANDLE_DBC, dbc);
      std::string code = d.state == "28000" || d.state == "28P01"
                             ? "sql.auth_failed"
                             : code_for_connect_message(d.message);
      SQLFreeHandle(SQL_HANDLE_DBC, dbc);
      SQLFreeHandle(SQL_HANDLE_ENV, env);
      return database_error(code, "cannot connect to the ODBC data source " + describe(), d.message,
                            d.state);
    }
    SQLSetConnectAttr(dbc, SQL_ATTR_ACCESS_MODE, reinterpret_cast<SQLPOINTER>(SQL_MODE_READ_ONLY),
                      0);
    SQLSetConnectAttr(dbc, SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF),
                      0);
    return std::unique_ptr<Connection>(new OdbcConnection(env, dbc, options_));
  }

 private:
  bool is(const char* what) const { return identity_.find(what) != std::string::npos; }
  bool psqlodbc() const { return is("psqlodbc") || is("postgres"); }
  bool sql_server() const { return is("sql server") || is("msodbcsql"); }

  // The string the driver gets, checked now (the policy and the roots may have changed since
  // validation): every host key resolved once and checked, then passed as the checked address
  // — psqlodbc keeps the name (for sslmode verify-full) and gets the address as libpq's
  // hostaddr through pqopt; SQL Server gets the address as Server and the name as
  // HostNameInCertificate; any other driver the address in place of the name. The SQLite ODBC
  // driver's Database becomes its real path beneath a files root.
  Result<std::string> pinned_text() const {
    std::vector<OdbcEntry> entries = entries_;
    std::string address, name;
    for (auto& e : entries) {
      if (e.name == "database" && is("sqlite")) {
        EXTDATA_ASSIGN_OR_RETURN(e.value, confined_database(e.value));
        continue;
      }
      if (!kHostKeys.count(e.name)) continue;
      const HostPort hp = host_port(e.value, keys_);
      EXTDATA_ASSIGN_OR_RETURN(std::string checked, checked_address(hp.host, hp.port));
      if (address.empty()) address = checked, name = hp.host;
      if (!psqlodbc()) e.value = hp.prefix + checked + hp.suffix;
    }
    if (!address.empty() && psqlodbc())
      entries.push_back({"pqopt", "pqopt", "hostaddr=" + address});
    if (!address.empty() && sql_server() && !keys_.count("hostnameincertificate"))
      entries.push_back({"HostNameInCertificate", "hostnameincertificate", name});
    return odbc_string(entries);
  }

  static Result<std::string> confined_database(const std::string& path) {
    const auto roots = FilesRoots::process();
    EXTDATA_ASSIGN_OR_RETURN(std::string real, roots->resolve(path));
    auto fd = roots->open(real);
    if (!fd.ok() && fd.error().code == "file.not_found")
      return database_error("sql.unknown_database", "cannot open SQLite file " + path,
                            "no such file");
    if (!fd.ok()) return fd.error();
    ::close(*fd);
    return real;
  }

  std::string text_;
  std::vector<OdbcEntry> entries_;
  std::map<std::string, std::string> keys_;  // lower-case keys, for the checks
  std::string identity_;                     // driver name and library, lower case
  std::string password_;
  DriverOptions options_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_odbc_driver(const nlohmann::json& spec,
                                                 const DriverOptions& o) {
  const std::string text = spec_text(spec, "connection");
  EXTDATA_ASSIGN_OR_RETURN(auto entries, parse_odbc_entries(text));
  EXTDATA_ASSIGN_OR_RETURN(auto keys, parse_odbc_string(text));
  if (auto d = keys.find("driver"); d != keys.end() && (d->second.find('/') != std::string::npos ||
                                                        d->second.find('\\') != std::string::npos))
    return setting_error("sql.bad_connection", "connection",
                         "connection names the ODBC driver by a file path",
                         "name a driver registered in the operator's odbcinst.ini (Driver=ODBC "
                         "Driver 18 for SQL Server) or a DSN (DSN=crm)");
  // FileDSN/SaveFile read and write files; pqopt is how extdata pins psqlodbc's address;
  // LoadExt loads a library into the SQLite ODBC driver.
  for (const char* key : {"filedsn", "savefile", "pqopt", "loadext"})
    if (keys.count(key))
      return setting_error("sql.bad_connection", "connection",
                           std::string("connection may not use ") + key,
                           "name a DSN or a driver registered in odbcinst.ini, with Server, "
                           "Port, Database and UID");
  if (!keys.count("dsn") && !keys.count("driver"))
    return setting_error("sql.bad_connection", "connection", "connection names no DSN or Driver",
                         "DSN=name, or Driver=NAME;Server=...;Database=...");
  std::string identity = driver_identity(keys);
  const bool has_host = std::any_of(keys.begin(), keys.end(),
                                    [](const auto& kv) { return kHostKeys.count(kv.first) > 0; });
  const bool sqlite = identity.find("sqlite") != std::string::npos;
  // Without a host key a driver picks its own default (a local socket, localhost), which the
  // policy never sees; a DSN's host is the operator's odbc.ini.
  if (!keys.count("dsn") && !sqlite && !has_host)
    return setting_error("sql.bad_connection", "connection", "connection names no Server or Host",
                         "give Server=host (and Port) so the host can be checked against the "
                         "network policy, or use a DSN of the operator's odbc.ini");
  if (auto db = keys.find("database"); sqlite && db != keys.end()) {
    if (lower(db->second).rfind("file:", 0) == 0)
      return setting_error("sql.bad_connection", "connection",
                           "the SQLite ODBC driver's Database may not be a file: URI",
                           "give the database file's path under a files root");
    auto confined = FilesRoots::process()->resolve(db->second);  // file.no_root, outside_root
    if (!confined.ok()) {
      Error e = confined.error();
      e.with("key", "connection");
      return e;
    }
  }
  return std::unique_ptr<Driver>(new OdbcDriver(text, std::move(entries), std::move(keys),
                                                std::move(identity), spec_text(spec, "password"),
                                                o));
}

}  // namespace extdata::sources::sql
