#pragma once
// libpq underneath the PostgreSQL store: the store URL, connections, bound parameters, results
// in binary format, a bounded pool, and errors in the store's words. Every statement is
// PQexecParams with $1… placeholders: values are never put into SQL text.
#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace extdata::store::pg {

// Where the store is: the URL as given (no password in it) and what errors call it.
struct Target {
  std::string url;
  std::string label;     // "host:port/db", for messages and hints
  std::string password;  // from EXTDATA_STORE_PASSWORD_FILE; empty: libpq's own (PGPASSFILE)
  bool has_connect_timeout = false;
};

// True for postgresql:// and postgres:// URLs.
bool is_postgres_url(std::string_view url);
// store.url when the URL does not parse, store.url_password when it holds a password,
// store.password_file when EXTDATA_STORE_PASSWORD_FILE cannot be used.
Result<Target> parse_target(const std::string& url);

// store.unavailable: the store cannot be reached (or broke off); the hint names the server.
Error unavailable(const Target& target, const std::string& why);

// Parameters bound to $1, $2, … in order: text, or bytes sent in binary (bytea).
class Params {
 public:
  Params& text(std::string value);
  Params& integer(std::int64_t value) { return text(std::to_string(value)); }
  // Not copied: `value` must outlive the statement (snapshot pieces, hundreds of MB).
  Params& bytes_in_place(std::string_view value);
  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::unique_ptr<std::string>> owned_;
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
};

// A result in binary format: text and bytea columns as their bytes, bigint as a number.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  std::string text(int row, int col) const { return std::string(view(row, col)); }
  std::string_view view(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  // Rows a statement changed (UPDATE, DELETE, INSERT).
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class Connection {
 public:
  Connection(PGconn* conn, const Target& target) : conn_(conn), target_(target) {}
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<Rows> exec(const char* sql, const Params& params = {});
  // Statements without parameters, several separated by ';' (migrations, BEGIN, COMMIT).
  Status run(const std::string& sql);
  // Each row of `sql`'s result, one at a time (libpq's single-row mode), so that a large
  // result is never in memory whole; `each`'s error stops the query.
  Status each_row(const char* sql, const Params& params,
                  const std::function<Status(const Rows&)>& each);
  // True when the server went away; such a connection is dropped, never reused.
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Reads what the server sent while the connection was idle (a shutdown notice, NOTIFY):
  // false when the connection turned out to be dead.
  bool still_alive();
  // Reads what arrived without blocking, handing each notification to `each`: false when the
  // connection turned out to be dead.
  bool consume_pending(const std::function<void(PGnotify*)>& each);
  PGconn* raw() { return conn_; }

 private:
  Error error_of(PGresult* result, const char* sql) const;
  bool readable() const;
  PGconn* conn_;
  const Target& target_;
};

// A new connection, or store.unavailable.
Result<std::unique_ptr<Connection>> connect(const Target& target);

// At most `max` connections, opened when needed; a connection that broke is dropped, and the
// next call opens a new one (the reconnect). Callers wait when all are in use.
class Pool {
 public:
  Pool(Target target, size_t max) : target_(std::move(target)), max_(max ? max : 1) {}

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    Connection* operator->() { return conn_.get(); }
    Connection& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };
  Result<Lease> take();

  const Target& target() const { return target_; }
  // Whether the last connection attempt or statement reached the server.
  bool up() const { return up_.load(); }
  // Connections opened again after one was lost.
  std::int64_t reconnects() const { return reconnects_.load(); }
  // For the listener and statements: the server was (not) reached.
  void record(bool reached);
  void record_lost() { lost_.store(true); }

 private:
  void give_back(std::unique_ptr<Connection> conn);

  Target target_;
  size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
  std::atomic<bool> up_{true}, lost_{false};
  std::atomic<std::int64_t> reconnects_{0};
};

}  // namespace extdata::store::pg
