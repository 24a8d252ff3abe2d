// driver: postgres — libpq. The connection is read-only for its life
// (default_transaction_read_only, and each fetch runs in BEGIN READ ONLY), with the source's
// statement timeout, UTC and ISO dates set in the startup packet. A query without parameters
// is read with COPY (…) TO STDOUT (see copy()); one with parameters through a
// cursor in batches of kBatchRows (one PGresult per batch, not per row as in single-row mode,
// which cost a result allocation per row), so a large result is never held whole; statements
// that cannot be a cursor (a DELETE, a WITH … INSERT) run in single-row mode, where the
// read-only session refuses them.
#include <libpq-fe.h>

#include <chrono>
#include <map>

#include "core/strings.h"
#include "sources/sql/drivers.h"
#include "sources/sql/errors.h"
#include "sources/sql/network.h"

namespace extdata::sources::sql {

namespace {

// PostgreSQL type OIDs (pg_type.dat) mapped to JSON.
enum Oid : unsigned {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kOid = 26,
  kJson = 114,
  kFloat4 = 700,
  kFloat8 = 701,
  kTimestamp = 1114,
  kTimestampTz = 1184,
  kNumeric = 1700,
  kJsonb = 3802,
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea's text form "\x4142" → the bytes.
std::string unhex(std::string_view text) {
  std::string out;
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text);
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// A value in PostgreSQL's text form (as a result or COPY gives it) as JSON.
void write_text_value(RowWriter& out, std::string_view v, unsigned type) {
  switch (type) {
    case kBool:
      return out.boolean(v == "t");
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
    case kFloat4:
    case kFloat8:
    case kNumeric:
      return out.number(v);
    case kJson:
    case kJsonb:
      return out.raw_json(v);
    case kTimestamp:
      return out.timestamp(v, false);
    case kTimestampTz:
      return out.timestamp(v, true);
    case kBytea:
      return out.bytes(unhex(v));
    default:
      return out.string(v);
  }
}

void write_value(RowWriter& out, const PGresult* res, int row, int col, unsigned type) {
  if (PQgetisnull(res, row, col)) return out.null();
  write_text_value(
      out, {PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col))}, type);
}

// A field of COPY's text format without its escapes: a backslash stands before the
// characters b f n r t v for the control characters they name, and before a backslash or a
// tab for itself (PostgreSQL's CopyAttributeOutText writes no other escapes).
std::string_view copy_unescaped(std::string_view field, std::string& scratch) {
  size_t i = field.find('\\');
  if (i == std::string_view::npos) return field;
  scratch.assign(field.substr(0, i));
  for (; i < field.size(); ++i) {
    char c = field[i];
    if (c == '\\' && i + 1 < field.size()) {
      switch (c = field[++i]) {
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'v':
          c = '\v';
          break;
        default:
          break;
      }
    }
    scratch += c;
  }
  return scratch;
}

std::string result_error(const PGresult* res) {
  const char* m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  return m ? m : PQresultErrorMessage(res);
}

Error query_error(PGconn* conn, const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string code = code_for_sqlstate(sqlstate);
  if (code.empty())
    code = PQstatus(conn) == CONNECTION_BAD ? "sql.connection_lost" : "sql.query_failed";
  const std::string message = res ? result_error(res) : PQerrorMessage(conn);
  return database_error(code, "PostgreSQL refused the query", message, sqlstate);
}

constexpr int kBatchRows = 8192;

// What DECLARE … CURSOR FOR refuses that the statement alone might not: a statement that is
// not a query (42P11), a data-modifying WITH (0A000), a syntax error only the wrapper makes.
bool not_a_cursor(const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string s = state ? state : "";
  return s == "42P11" || s == "0A000" || s == "42601";
}

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* conn, std::chrono::milliseconds statement_timeout)
      : conn_(conn), statement_timeout_(statement_timeout) {}
  ~PgConnection() override { PQfinish(conn_); }

  bool usable() const override { return PQstatus(conn_) == CONNECTION_OK; }

  Status run(const std::string& text, const std::vector<Parameter>& parameters,
             RowWriter& out) override {
    EXTDATA_TRY(exec("BEGIN READ ONLY"));
    if (parameters.empty()) {
      bool copied = true;
      Status s = copy(text, out, copied);
      if (copied || !usable()) {
        if (usable()) PQclear(PQexec(conn_, "ROLLBACK"));
        return s;
      }
      PQclear(PQexec(conn_, "ROLLBACK"));  // COPY refused the statement: read it as below
      EXTDATA_TRY(exec("BEGIN READ ONLY"));
    }
    bool cursor = true;
    Status s = fetch_batches(text, parameters, out, cursor);
    if (!cursor && usable()) {  // the statement cannot be a cursor: run it as it is
      PQclear(PQexec(conn_, "ROLLBACK"));
      EXTDATA_TRY(exec("BEGIN READ ONLY"));
      s = stream(text, parameters, out);
    }
    if (usable()) PQclear(PQexec(conn_, "ROLLBACK"));
    return s;
  }

 private:
  Status exec(const char* sql) {
    PGresult* res = PQexec(conn_, sql);
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    Status s = ok ? ok_status() : Status(query_error(conn_, res));
    PQclear(res);
    return s;
  }

  // The statement as a cursor, read kBatchRows at a time. `cursor` becomes false when the
  // server will not make it a cursor. Each FETCH has the server's statement timeout; the whole
  // read is held to it here as well.
  Status fetch_batches(const std::string& text, const std::vector<Parameter>& parameters,
                       RowWriter& out, bool& cursor) {
    const auto deadline = std::chrono::steady_clock::now() + statement_timeout_;
    std::vector<const char*> values;
    for (const auto& p : parameters) values.push_back(p ? p->c_str() : nullptr);
    const std::string declare = "DECLARE extdata_rows NO SCROLL CURSOR FOR " + text;
    PGresult* res = PQexecParams(conn_, declare.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      cursor = !not_a_cursor(res);
      Error e = query_error(conn_, res);
      PQclear(res);
      return e;
    }
    PQclear(res);
    // The next FETCH is sent before the rows of the last one are written, so the server reads
    // a batch while this side converts the previous one (one round trip at a time left both
    // waiting for each other). A FETCH still in flight is taken before returning.
    const std::string fetch = "FETCH " + std::to_string(kBatchRows) + " FROM extdata_rows";
    if (!PQsendQuery(conn_, fetch.c_str())) return query_error(conn_, nullptr);
    std::vector<unsigned> types;
    // The last batch's result is freed only once the next one is read: freed first, its
    // memory at the top of the heap went back to the system and every batch faulted fresh
    // pages in again; freed after, the next batch reuses it.
    std::unique_ptr<PGresult, decltype(&PQclear)> last(nullptr, &PQclear);
    for (;;) {
      res = next_result();
      last.reset();
      if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        Error e = query_error(conn_, res);
        PQclear(res);
        return e;
      }
      if (types.empty() && PQnfields(res) > 0) types = describe(res, out);
      const int rows = PQntuples(res);
      const bool more = rows >= kBatchRows;
      if (more && !PQsendQuery(conn_, fetch.c_str())) {
        PQclear(res);
        return query_error(conn_, nullptr);
      }
      Status written = ok_status();
      for (int r = 0; r < rows && written.ok(); ++r) written = write_row(res, r, types, out);
      last.reset(res);
      if (written.ok() && more && std::chrono::steady_clock::now() > deadline)
        written = database_error("sql.timeout",
                                 "reading the rows took longer than statement_timeout", "");
      if (!written.ok()) {
        if (more) PQclear(next_result());  // the FETCH in flight
        return written;
      }
      if (!more) return ok_status();
    }
  }

  // A statement without parameters read with COPY (…) TO STDOUT: the server sends the rows
  // as they are produced, in the text form a result has, where a cursor's FETCH first stores
  // each batch on the server (FETCH is a utility statement), which cost the server twice
  // COPY's time. COPY takes no parameters, and the column types come from describing the
  // statement. `copied` becomes false when no row was read and COPY or the description
  // refused the statement (a DELETE, a data-modifying WITH, SELECT … FOR UPDATE in this
  // read-only transaction, text COPY cannot wrap): the caller then reads it as before, so
  // such statements fail exactly as they did. A timeout or a lost connection is returned.
  Status copy(const std::string& text, RowWriter& out, bool& copied) {
    std::vector<unsigned> types;
    std::vector<std::string> names;
    {
      PGresult* res = PQprepare(conn_, "", text.c_str(), 0, nullptr);
      if (PQresultStatus(res) != PGRES_COMMAND_OK) return refused(res, copied);
      PQclear(res);
      res = PQdescribePrepared(conn_, "");
      if (PQresultStatus(res) != PGRES_COMMAND_OK || PQnfields(res) == 0)
        return refused(res, copied);
      for (int c = 0; c < PQnfields(res); ++c) {
        names.push_back(PQfname(res, c));
        types.push_back(PQftype(res, c));
      }
      PQclear(res);
    }
    const std::string statement = "COPY (\n" + text + "\n) TO STDOUT";
    PGresult* res = PQexec(conn_, statement.c_str());
    const bool copying = PQresultStatus(res) == PGRES_COPY_OUT;
    if (!copying) return refused(res, copied);
    PQclear(res);
    out.set_columns(names);
    Status written = ok_status();
    std::string scratch;
    bool cancelled = false;
    for (;;) {
      char* row = nullptr;
      const int length = PQgetCopyData(conn_, &row, 0);
      if (length < 0) break;  // -1: done, -2: failed; the result below says which
      if (written.ok())
        written = write_copy_row({row, static_cast<size_t>(length)}, types, out, scratch);
      PQfreemem(row);
      if (!written.ok() && !cancelled) {  // the rest is read and dropped
        cancel();
        cancelled = true;
      }
    }
    std::optional<Error> failure;
    while (PGresult* end = PQgetResult(conn_)) {
      if (!failure && PQresultStatus(end) != PGRES_COMMAND_OK) failure = query_error(conn_, end);
      PQclear(end);
    }
    if (!written.ok()) return written;
    if (failure) {
      if (out.rows() == 0 && usable() && failure->code != "sql.timeout") {
        copied = false;
        return ok_status();
      }
      return *failure;
    }
    return ok_status();
  }

  // Takes `res`, a failed step of copy() before any row: a timeout or a lost connection is
  // the fetch's error; anything else leaves the statement to the cursor (`copied` false).
  Status refused(PGresult* res, bool& copied) {
    Error e = query_error(conn_, res);
    PQclear(res);
    if (!usable() || e.code == "sql.timeout") return e;
    copied = false;
    return ok_status();
  }

  // One row of COPY's text format: fields separated by tabs, "\N" for NULL, a newline at the
  // end.
  static Status write_copy_row(std::string_view line, const std::vector<unsigned>& types,
                               RowWriter& out, std::string& scratch) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    EXTDATA_TRY(out.begin_row());
    for (size_t c = 0; c < types.size(); ++c) {
      const size_t tab = line.find('\t');
      const std::string_view field = line.substr(0, tab);
      line = tab == std::string_view::npos ? std::string_view() : line.substr(tab + 1);
      if (field == "\\N") {
        out.null();
      } else {
        write_text_value(out, copy_unescaped(field, scratch), types[c]);
      }
    }
    return out.end_row();
  }

  // The result of the query sent last, after which the connection is idle again.
  PGresult* next_result() {
    PGresult* res = PQgetResult(conn_);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    return res;
  }

  Status stream(const std::string& text, const std::vector<Parameter>& parameters, RowWriter& out) {
    std::vector<const char*> values;
    for (const auto& p : parameters) values.push_back(p ? p->c_str() : nullptr);
    if (!PQsendQueryParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0))
      return query_error(conn_, nullptr);
    PQsetSingleRowMode(conn_);
    std::optional<Error> failure;
    std::vector<unsigned> types;
    while (PGresult* res = PQgetResult(conn_)) {
      const ExecStatusType st = PQresultStatus(res);
      if (!failure && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK)) {
        if (types.empty() && PQnfields(res) > 0) types = describe(res, out);
        if (st == PGRES_SINGLE_TUPLE) {
          if (auto s = write_row(res, 0, types, out); !s.ok()) {
            failure = s.error();
            cancel();
          }
        }
      } else if (!failure && st != PGRES_COMMAND_OK) {
        failure = query_error(conn_, res);
      }
      PQclear(res);
    }
    if (failure) return *failure;
    return ok_status();
  }

  static std::vector<unsigned> describe(const PGresult* res, RowWriter& out) {
    std::vector<unsigned> types;
    std::vector<std::string> names;
    for (int c = 0; c < PQnfields(res); ++c) {
      names.push_back(PQfname(res, c));
      types.push_back(PQftype(res, c));
    }
    out.set_columns(names);
    return types;
  }

  static Status write_row(const PGresult* res, int row, const std::vector<unsigned>& types,
                          RowWriter& out) {
    EXTDATA_TRY(out.begin_row());
    for (int c = 0; c < PQnfields(res); ++c) write_value(out, res, row, c, types[c]);
    return out.end_row();
  }

  // Stops the statement on the server (the rest of its rows are not wanted).
  void cancel() {
    if (PGcancel* cancel = PQgetCancel(conn_)) {
      char buf[256];
      PQcancel(cancel, buf, sizeof buf);
      PQfreeCancel(cancel);
    }
  }

  PGconn* conn_;
  std::chrono::milliseconds statement_timeout_;
};

class PgDriver final : public Driver {
 public:
  PgDriver(std::map<std::string, std::string> params, std::string password, DriverOptions o)
      : params_(std::move(params)), password_(std::move(password)), options_(o) {}

  Dialect dialect() const override { return Dialect::postgres; }

  std::string describe() const override {
    std::string out = "postgresql://";
    if (auto u = params_.find("user"); u != params_.end()) out += u->second + "@";
    out += host() + ":" + std::to_string(port());
    if (auto d = params_.find("dbname"); d != params_.end()) out += "/" + d->second;
    if (auto s = params_.find("sslmode"); s != params_.end()) out += "?sslmode=" + s->second;
    return out;
  }

  std::string tables_query() const override {
    return "SELECT table_schema AS schema, table_name AS name, table_type AS type "
           "FROM information_schema.tables "
           "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
           "ORDER BY table_schema, table_name";
  }
  std::string columns_query() const override {
    return "SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable "
           "FROM information_schema.columns "
           "WHERE table_name = :table OR table_schema || '.' || table_name = :table "
           "ORDER BY table_schema, ordinal_position";
  }

  Result<std::unique_ptr<Connection>> connect() override {
    EXTDATA_ASSIGN_OR_RETURN(std::string address, checked_address(host(), port()));
    std::map<std::string, std::string> p = params_;
    p["host"] = host();  // kept for verify-full's name check
    p["hostaddr"] = address;
    p["port"] = std::to_string(port());
    if (!password_.empty()) p["password"] = password_;
    p["passfile"] = "/dev/null";  // never the server account's ~/.pgpass
    p["connect_timeout"] =
        std::to_string(std::max<long long>(2, (options_.connect_timeout.count() + 999) / 1000));
    p["client_encoding"] = "UTF8";
    p["application_name"] = "extdata";
    p["options"] = p["options"] + " -c default_transaction_read_only=on -c statement_timeout=" +
                   std::to_string(options_.statement_timeout.count()) +
                   " -c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601";
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : p) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string message = conn ? PQerrorMessage(conn) : "out of memory";
      PQfinish(conn);
      return database_error(code_for_connect_message(message),
                            "cannot connect to PostgreSQL at " + describe(), message);
    }
    return std::unique_ptr<Connection>(new PgConnection(conn, options_.statement_timeout));
  }

 private:
  std::string host() const {
    auto h = params_.find("host");
    return h == params_.end() ? "localhost" : h->second;
  }
  int port() const {
    auto p = params_.find("port");
    return p == params_.end() ? 5432 : std::atoi(p->second.c_str());
  }

  std::map<std::string, std::string> params_;
  std::string password_;
  DriverOptions options_;
};

// The libpq options the `connection` may not set: extdata decides where to connect
// (hostaddr), what the password is (password) and which files are read.
constexpr std::array kRefused = {"hostaddr", "passfile",    "service",   "sslkey",
                                 "sslcert",  "sslpassword", "requiressl"};

}  // namespace

Result<std::unique_ptr<Driver>> make_postgres_driver(const nlohmann::json& spec,
                                                     const DriverOptions& o) {
  const std::string text = spec_text(spec, "connection");
  if (text.empty())
    return setting_error("config.missing_key", "connection", "driver postgres needs connection",
                         "e.g. postgresql://app@db.example.com:5432/crm?sslmode=verify-full");
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &err);
  if (!parsed) {
    std::string why(err ? trim(err) : std::string_view("cannot be read"));
    PQfreemem(err);
    return setting_error("sql.bad_connection", "connection", "connection: " + why,
                         "a URL (postgresql://user@host:5432/db) or key=value pairs "
                         "(host=db user=app dbname=crm)");
  }
  std::map<std::string, std::string> params;
  for (PQconninfoOption* opt = parsed; opt->keyword; ++opt)
    if (opt->val && *opt->val) params[opt->keyword] = opt->val;
  PQconninfoFree(parsed);
  if (params.count("password"))
    return setting_error("sql.password_in_url", "connection", "connection contains a password",
                         "remove it from connection and put it in password (a secret, sealed "
                         "in the store and never shown)");
  for (const char* key : kRefused)
    if (params.count(key))
      return setting_error("sql.bad_connection", "connection",
                           std::string("connection may not set ") + key,
                           "extdata resolves the host itself and checks it against the network "
                           "policy; give host, port, user, dbname and sslmode");
  auto host = params.find("host");
  if (host != params.end() &&
      (host->second.find(',') != std::string::npos || host->second.front() == '/'))
    return setting_error("sql.bad_connection", "connection",
                         "connection names a socket directory or several hosts",
                         "give one host name or address reached over TCP");
  if (auto port = params.find("port");
      port != params.end() &&
      (std::atoi(port->second.c_str()) <= 0 || port->second.find(',') != std::string::npos))
    return setting_error("sql.bad_connection", "connection", "connection's port is not a port",
                         "e.g. postgresql://app@db:5432/crm");
  if (auto mode = spec_text(spec, "sslmode"); !mode.empty()) params["sslmode"] = mode;
  if (auto ca = spec_text(spec, "ca_bundle"); !ca.empty()) params["sslrootcert"] = ca;
  return std::unique_ptr<Driver>(new PgDriver(std::move(params), spec_text(spec, "password"), o));
}

}  // namespace extdata::sources::sql
