// driver: mysql — MariaDB and MySQL through libmariadb. Every connection's session is
// read-only (SET SESSION TRANSACTION READ ONLY, and each fetch runs in START TRANSACTION READ
// ONLY) with the statement timeout (MariaDB max_statement_time, MySQL max_execution_time) and
// UTC; the query is a server-side prepared statement, its parameters bound as strings.
#include <mysql.h>

#include <cstring>

#include "core/strings.h"
#include "sources/sql/connection_url.h"
#include "sources/sql/drivers.h"
#include "sources/sql/errors.h"
#include "sources/sql/network.h"

namespace extdata::sources::sql {

namespace {

constexpr unsigned long kBinaryCharset = 63;
constexpr size_t kInitialBuffer = 256;

std::string code_for_errno(unsigned err, const std::string& message) {
  switch (err) {
    case 1044:
    case 1045:
    case 1698:
      return "sql.auth_failed";
    case 1049:
      return "sql.unknown_database";
    case 1146:
      return "sql.unknown_relation";
    case 1142:
    case 1143:
      return "sql.permission_denied";
    case 1792:
      return "sql.read_only";
    case 1969:  // MariaDB: max_statement_time exceeded
    case 3024:  // MySQL: max_execution_time exceeded
      return "sql.timeout";
    case 2006:
    case 2013:
    case 2055:
    case 4031:
      return "sql.connection_lost";
    case 2026:
      return "sql.tls";
    case 2002:
    case 2003:
    case 2005:
      return "sql.unreachable";
    default:
      break;
  }
  if (err >= 2000 && err < 3000) return code_for_connect_message(message);
  return "sql.query_failed";
}

Error mysql_failure(unsigned err, const char* message, const char* state, const std::string& what) {
  return database_error(code_for_errno(err, message), what, message,
                        state && std::strcmp(state, "00000") ? state : "");
}

enum class As { number, boolean, timestamp, bytes, text };

As json_kind(const MYSQL_FIELD& f) {
  switch (f.type) {
    case MYSQL_TYPE_TINY:
      return f.length == 1 ? As::boolean : As::number;  // BOOLEAN is TINYINT(1)
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return As::number;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_DATETIME:
      return As::timestamp;
    case MYSQL_TYPE_BIT:
      return As::bytes;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
      return f.charsetnr == kBinaryCharset ? As::bytes : As::text;
    default:
      return As::text;
  }
}

struct Cell {
  std::vector<char> buffer = std::vector<char>(kInitialBuffer);
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
};

class MysqlConnection final : public Connection {
 public:
  explicit MysqlConnection(MYSQL* m) : m_(m) {}
  ~MysqlConnection() override { mysql_close(m_); }

  bool usable() const override { return !broken_; }

  Status run(const std::string& text, const std::vector<Parameter>& parameters,
             RowWriter& out) override {
    EXTDATA_TRY(exec("START TRANSACTION READ ONLY"));
    MYSQL_STMT* st = mysql_stmt_init(m_);
    if (!st) return failure();
    Status s = stream(st, text, parameters, out);
    mysql_stmt_close(st);
    if (!broken_) mysql_query(m_, "ROLLBACK");
    return s;
  }

 private:
  Status exec(const char* sql) {
    if (mysql_query(m_, sql) == 0) return ok_status();
    return failure();
  }

  Error failure() {
    Error e = mysql_failure(mysql_errno(m_), mysql_error(m_), mysql_sqlstate(m_),
                            "MariaDB/MySQL refused the query");
    if (is_connection_lost(e)) broken_ = true;
    return e;
  }
  Error failure(MYSQL_STMT* st) {
    if (mysql_stmt_errno(st) == 0) return failure();  // reported on the connection instead
    Error e = mysql_failure(mysql_stmt_errno(st), mysql_stmt_error(st), mysql_stmt_sqlstate(st),
                            "MariaDB/MySQL refused the query");
    if (is_connection_lost(e)) broken_ = true;
    return e;
  }

  Status stream(MYSQL_STMT* st, const std::string& text, const std::vector<Parameter>& parameters,
                RowWriter& out) {
    if (mysql_stmt_prepare(st, text.c_str(), text.size())) return failure(st);
    std::vector<MYSQL_BIND> params(parameters.size());
    std::vector<unsigned long> lengths(parameters.size());
    std::vector<my_bool> nulls(parameters.size());
    for (size_t i = 0; i < parameters.size(); ++i) {
      std::memset(&params[i], 0, sizeof(MYSQL_BIND));
      params[i].buffer_type = MYSQL_TYPE_STRING;
      nulls[i] = !parameters[i];
      params[i].is_null = &nulls[i];
      if (parameters[i]) {
        params[i].buffer = const_cast<char*>(parameters[i]->data());
        lengths[i] = parameters[i]->size();
        params[i].buffer_length = lengths[i];
        params[i].length = &lengths[i];
      }
    }
    if (!params.empty() && mysql_stmt_bind_param(st, params.data())) return failure(st);
    if (mysql_stmt_execute(st)) return failure(st);
    MYSQL_RES* meta = mysql_stmt_result_metadata(st);
    if (!meta) return ok_status();  // a statement without rows
    Status s = rows(st, meta, out);
    mysql_free_result(meta);
    return s;
  }

  Status rows(MYSQL_STMT* st, MYSQL_RES* meta, RowWriter& out) {
    const unsigned n = mysql_num_fields(meta);
    const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    std::vector<std::string> names;
    std::vector<As> kinds;
    for (unsigned c = 0; c < n; ++c) {
      names.emplace_back(fields[c].name, fields[c].name_length);
      kinds.push_back(json_kind(fields[c]));
    }
    out.set_columns(names);
    std::vector<Cell> cells(n);
    std::vector<MYSQL_BIND> binds(n);
    for (unsigned c = 0; c < n; ++c) bind_cell(binds[c], cells[c]);
    if (mysql_stmt_bind_result(st, binds.data())) return failure(st);
    for (;;) {
      const int rc = mysql_stmt_fetch(st);
      if (rc == MYSQL_NO_DATA) return ok_status();
      if (rc == 1) return failure(st);
      EXTDATA_TRY(out.begin_row());
      for (unsigned c = 0; c < n; ++c) {
        if (cells[c].is_null) {
          out.null();
          continue;
        }
        if (cells[c].length > cells[c].buffer.size())
          EXTDATA_TRY(fetch_long(st, binds[c], cells[c], c));
        write(out, kinds[c], std::string_view(cells[c].buffer.data(), cells[c].length));
      }
      EXTDATA_TRY(out.end_row());
    }
  }

  static void bind_cell(MYSQL_BIND& b, Cell& cell) {
    std::memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_STRING;
    b.buffer = cell.buffer.data();
    b.buffer_length = cell.buffer.size();
    b.length = &cell.length;
    b.is_null = &cell.is_null;
    b.error = &cell.error;
  }

  // A value longer than its buffer: the buffer grows (for the next rows too) and the column is
  // fetched again.
  Status fetch_long(MYSQL_STMT* st, MYSQL_BIND& b, Cell& cell, unsigned column) {
    cell.buffer.resize(cell.length);
    b.buffer = cell.buffer.data();
    b.buffer_length = cell.buffer.size();
    if (mysql_stmt_fetch_column(st, &b, column, 0)) return failure(st);
    return ok_status();
  }

  static void write(RowWriter& out, As kind, std::string_view v) {
    switch (kind) {
      case As::number:
        return out.number(v);
      case As::boolean:
        return v == "0" ? out.boolean(false) : v == "1" ? out.boolean(true) : out.number(v);
      case As::timestamp:
        return out.timestamp(v, true);
      case As::bytes:
        return out.bytes(v);
      case As::text:
        return out.string(v);
    }
  }

  MYSQL* m_;
  bool broken_ = false;
};

class MysqlDriver final : public Driver {
 public:
  MysqlDriver(ConnectionUrl url, std::string password, std::string sslmode, std::string ca,
              DriverOptions o)
      : url_(std::move(url)),
        password_(std::move(password)),
        sslmode_(std::move(sslmode)),
        ca_(std::move(ca)),
        options_(o) {}

  Dialect dialect() const override { return Dialect::mysql; }

  std::string describe() const override {
    std::string out = url_.scheme + "://";
    if (!url_.user.empty()) out += url_.user + "@";
    out += url_.host + ":" + std::to_string(port());
    if (!url_.database.empty()) out += "/" + url_.database;
    if (!sslmode_.empty()) out += "?sslmode=" + sslmode_;
    return out;
  }

  std::string tables_query() const override {
    return "SELECT table_name AS name, table_type AS type FROM information_schema.tables "
           "WHERE table_schema = DATABASE() ORDER BY table_name";
  }
  std::string columns_query() const override {
    return "SELECT column_name AS name, column_type AS type, is_nullable = 'YES' AS nullable "
           "FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = "
           ":table ORDER BY ordinal_position";
  }

  Result<std::unique_ptr<Connection>> connect() override {
    EXTDATA_ASSIGN_OR_RETURN(std::string address, checked_address(url_.host, port()));
    MYSQL* m = mysql_init(nullptr);
    if (!m) return Error("sql.unreachable", "cannot start a MariaDB/MySQL client (out of memory)");
    set_options(m);
    if (!mysql_real_connect(m, address.c_str(), url_.user.c_str(), password_.c_str(),
                            url_.database.empty() ? nullptr : url_.database.c_str(),
                            static_cast<unsigned>(port()), nullptr, 0)) {
      Error e = mysql_failure(mysql_errno(m), mysql_error(m), nullptr,
                              "cannot connect to MariaDB/MySQL at " + describe());
      mysql_close(m);
      return e;
    }
    // MariaDB's statement timeout (seconds), else MySQL's (milliseconds, SELECT only).
    const double seconds = static_cast<double>(options_.statement_timeout.count()) / 1000;
    if (mysql_query(m, ("SET SESSION max_statement_time = " + std::to_string(seconds)).c_str()))
      mysql_query(m, ("SET SESSION max_execution_time = " +
                      std::to_string(options_.statement_timeout.count()))
                         .c_str());
    return std::unique_ptr<Connection>(new MysqlConnection(m));
  }

 private:
  int port() const { return url_.port ? url_.port : 3306; }

  void set_options(MYSQL* m) const {
    unsigned connect_s = static_cast<unsigned>(
        std::max<long long>(1, (options_.connect_timeout.count() + 999) / 1000));
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    // A server that stops answering mid-result: the read fails after the statement timeout.
    unsigned read_s = static_cast<unsigned>(options_.statement_timeout.count() / 1000 + 5);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &read_s);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(m, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION READ ONLY");
    mysql_optionsv(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    my_bool no = 0, yes = 1;
    mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &no);  // the server may not read our files
    if (sslmode_ == "require" || sslmode_ == "verify-ca")
      mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
    if (sslmode_ == "verify-ca") mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    if (sslmode_ != "verify-ca") mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
    if (!ca_.empty()) mysql_optionsv(m, MYSQL_OPT_SSL_CA, ca_.c_str());
  }

  ConnectionUrl url_;
  std::string password_, sslmode_, ca_;
  DriverOptions options_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_mysql_driver(const nlohmann::json& spec,
                                                  const DriverOptions& o) {
  EXTDATA_ASSIGN_OR_RETURN(ConnectionUrl url, parse_connection_url(spec_text(spec, "connection")));
  if (url.scheme != "mysql" && url.scheme != "mariadb")
    return setting_error("sql.bad_connection", "connection",
                         "connection of driver mysql starts with mysql:// or mariadb://",
                         "e.g. mysql://app@db.example.com:3306/shop");
  std::string sslmode = spec_text(spec, "sslmode");
  for (const auto& [key, value] : url.options) {
    if (key != "sslmode" && key != "ssl-mode")
      return setting_error("sql.bad_connection", "connection",
                           "connection option '" + key + "' is not supported",
                           "only sslmode; TLS files go in ca_bundle");
    if (sslmode.empty()) sslmode = lower(value);
  }
  for (char& c : sslmode)
    if (c == '_') c = '-';  // MySQL's own spelling: VERIFY_CA, REQUIRED
  if (sslmode == "required") sslmode = "require";
  if (sslmode == "verify-full" || sslmode == "verify_identity")
    return setting_error("sql.bad_connection", "sslmode",
                         "driver mysql supports sslmode up to verify-ca",
                         "extdata connects to the address it checked against the network policy, "
                         "so the certificate's host name is not compared; use verify-ca with "
                         "ca_bundle");
  if (sslmode == "allow" || sslmode == "prefer") sslmode = "";
  return std::unique_ptr<Driver>(new MysqlDriver(std::move(url), spec_text(spec, "password"),
                                                 sslmode, spec_text(spec, "ca_bundle"), o));
}

}  // namespace extdata::sources::sql
