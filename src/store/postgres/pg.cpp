#include "store/postgres/pg.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace extdata::store::pg {

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

namespace {

Error bad_url(const std::string& why) {
  return Error("store.url", "the store URL is not usable: " + why,
               "Give --store (or EXTDATA_STORE) as postgresql://USER@HOST:PORT/DATABASE"
               "?sslmode=require; the password comes from PGPASSFILE or "
               "EXTDATA_STORE_PASSWORD_FILE.");
}

// The password of EXTDATA_STORE_PASSWORD_FILE: a file only its owner may read, first line.
Result<std::string> password_from_file() {
  const char* file = std::getenv("EXTDATA_STORE_PASSWORD_FILE");
  if (!file || !*file) return std::string();
  struct stat st {};
  if (::stat(file, &st) != 0)
    return Error("store.password_file",
                 std::string("the store password file ") + file + " does not exist",
                 "EXTDATA_STORE_PASSWORD_FILE must name a file holding the password (mode 0600).");
  if ((st.st_mode & 077) != 0)
    return Error("store.password_file",
                 std::string("the store password file ") + file + " is readable by other users",
                 std::string("Run: chmod 600 ") + file);
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    return Error("store.password_file",
                 std::string("the store password file ") + file + " is empty",
                 "Write the PostgreSQL password on its first line.");
  return line;
}

}  // namespace

Result<Target> parse_target(const std::string& url) {
  if (!is_postgres_url(url)) return bad_url("it must begin with postgresql://");
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &err);
  if (!options) {
    std::string why = err ? err : "it does not parse";
    PQfreemem(err);
    return bad_url(std::string(trim(why)));
  }
  Target target;
  target.url = url;
  std::string host = "localhost", port = "5432", db;
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "password") has_password = true;
    if (key == "host") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") db = o->val;
    if (key == "connect_timeout") target.has_connect_timeout = true;
  }
  PQconninfoFree(options);
  if (has_password)
    return Error("store.url_password",
                 "the store URL holds a password; a command line or an environment is no place "
                 "for it",
                 "Remove the password from the URL and put it in a file: PGPASSFILE "
                 "(host:port:database:user:password, mode 0600) or EXTDATA_STORE_PASSWORD_FILE "
                 "(the password alone, mode 0600).");
  target.label = host + ":" + port + (db.empty() ? "" : "/" + db);
  EXTDATA_ASSIGN_OR_RETURN(target.password, password_from_file());
  return target;
}

Error unavailable(const Target& target, const std::string& why) {
  return Error("store.unavailable",
               "the PostgreSQL store at " + target.label +
                   " cannot be reached: " + std::string(trim(why)),
               "Check that PostgreSQL runs at " + target.label +
                   " and accepts this user (pg_hba.conf, password); extdata connects again on "
                   "the next call and keeps serving what it holds in memory meanwhile.")
      .with("store", target.label);
}

Params& Params::text(std::string value) {
  owned_.push_back(std::make_unique<std::string>(std::move(value)));
  values_.push_back(owned_.back()->c_str());
  lengths_.push_back(static_cast<int>(owned_.back()->size()));
  formats_.push_back(0);
  return *this;
}

Params& Params::bytes_in_place(std::string_view value) {
  values_.push_back(value.data() ? value.data() : "");
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(1);
  return *this;
}

std::string_view Rows::view(int row, int col) const {
  if (PQgetisnull(result_.get(), row, col)) return {};
  return {PQgetvalue(result_.get(), row, col),
          static_cast<size_t>(PQgetlength(result_.get(), row, col))};
}

std::int64_t Rows::integer(int row, int col) const {
  const std::string_view v = view(row, col);
  std::uint64_t n = 0;
  for (unsigned char byte : v) n = (n << 8) | byte;  // network order, 2, 4 or 8 bytes
  switch (v.size()) {
    case 2:
      return static_cast<std::int16_t>(n);
    case 4:
      return static_cast<std::int32_t>(n);
    default:
      return static_cast<std::int64_t>(n);
  }
}

std::int64_t Rows::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Error Connection::error_of(PGresult* result, const char* what) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                                      : PQerrorMessage(conn_);
  // Class 08 (connection exception) and 57P (operator intervention: shutdown) mean the server
  // went away, as a broken connection does.
  const std::string_view code = state ? state : "";
  if (broken() || code.starts_with("08") || code.starts_with("57P"))
    return unavailable(target_, message);
  Error e("store.postgres", "PostgreSQL error: " + std::string(trim(message)),
          "Check the store's server log; the statement was: " + std::string(what).substr(0, 80));
  if (!code.empty()) e.with("sqlstate", std::string(code));
  return e;
}

Result<Rows> Connection::exec(const char* sql, const Params& params) {
  PGresult* result = PQexecParams(conn_, sql, params.size(), nullptr, params.values(),
                                  params.lengths(), params.formats(), /*binary results*/ 1);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
  Error e = error_of(result, sql);
  PQclear(result);
  return e;
}

Status Connection::run(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(result);
    return ok_status();
  }
  Error e = error_of(result, sql.c_str());
  PQclear(result);
  return e;
}

Status Connection::each_row(const char* sql, const Params& params,
                            const std::function<Status(const Rows&)>& each) {
  if (!PQsendQueryParams(conn_, sql, params.size(), nullptr, params.values(), params.lengths(),
                         params.formats(), 1) ||
      !PQsetSingleRowMode(conn_))
    return error_of(nullptr, sql);
  Status outcome = ok_status();
  while (PGresult* result = PQgetResult(conn_)) {
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_SINGLE_TUPLE) {
      Rows row(result);
      // After an error of `each` the rest is read and dropped: the connection stays usable.
      if (outcome.ok()) outcome = each(row);
    } else if (status == PGRES_TUPLES_OK) {
      PQclear(result);
    } else {
      if (outcome.ok()) outcome = error_of(result, sql);
      PQclear(result);
    }
  }
  return outcome;
}

bool Connection::readable() const {
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  return pfd.fd >= 0 && ::poll(&pfd, 1, 0) > 0;
}

bool Connection::consume_pending(const std::function<void(PGnotify*)>& each) {
  // A server shutting down sends a FATAL message, then closes: the first read takes the
  // message (the connection still looks fine), a second one meets the end.
  for (int reads = 0; reads < 4 && !broken() && readable(); ++reads) {
    if (!PQconsumeInput(conn_)) return false;
    while (PGnotify* n = PQnotifies(conn_)) {
      if (each) each(n);
      PQfreemem(n);
    }
  }
  return !broken() && PQsocket(conn_) >= 0;
}

bool Connection::still_alive() {
  // An idle connection has nothing to read unless the server said goodbye (or a NOTIFY).
  return consume_pending(nullptr);
}

Result<std::unique_ptr<Connection>> connect(const Target& target) {
  std::vector<const char*> keys = {"dbname", "application_name"};
  std::vector<const char*> values = {target.url.c_str(), "extdata"};
  if (!target.password.empty()) {
    keys.push_back("password");
    values.push_back(target.password.c_str());
  }
  if (!target.has_connect_timeout) {  // an outage answers in seconds, not minutes
    keys.push_back("connect_timeout");
    values.push_back("5");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname*/ 1);
  if (!conn) return unavailable(target, "out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    Error e = unavailable(target, PQerrorMessage(conn));
    PQfinish(conn);
    return e;
  }
  // Quiet: notices (e.g. "relation already exists, skipping") are not for the operator.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::make_unique<Connection>(conn, target);
}

void Pool::record(bool reached) {
  up_.store(reached);
  if (reached && lost_.exchange(false)) ++reconnects_;
  if (!reached) lost_.store(true);
}

Result<Pool::Lease> Pool::take() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (idle_.empty()) break;
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->still_alive()) return Lease(this, std::move(conn));
    --open_;  // dropped; the loop opens a new one
    lost_.store(true);
  }
  ++open_;
  lock.unlock();
  auto conn = connect(target_);
  if (!conn.ok()) {
    record(false);
    lock.lock();
    --open_;
    cv_.notify_one();
    return std::move(conn).error();
  }
  record(true);
  return Lease(this, std::move(conn).value());
}

void Pool::give_back(std::unique_ptr<Connection> conn) {
  const bool broken = conn->broken();
  if (broken) {
    record(false);
    conn.reset();
  }
  std::lock_guard lock(mu_);
  if (broken)
    --open_;
  else
    idle_.push_back(std::move(conn));
  cv_.notify_one();
}

}  // namespace extdata::store::pg
