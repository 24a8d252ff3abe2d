// The embedded store: one SQLite file in WAL mode, numbered migrations, secrets sealed.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <filesystem>
#include <mutex>

#include "core/log.h"
#include "store/secret_box.h"
#include "store/store.h"
#include "store/stored_config.h"

namespace extdata::store {

using nlohmann::json;
using stored::sha256_hex;
using stored::sync_from_text;
using stored::sync_to_json;
using stored::unix_now;

namespace {

// Each entry is one schema version; never edit a released entry, append a new one.
const std::vector<std::string> kMigrations = {
    R"sql(
    CREATE TABLE sources (name TEXT PRIMARY KEY, type TEXT NOT NULL, spec TEXT NOT NULL,
                          updated_at INTEGER NOT NULL);
    CREATE TABLE fields (name TEXT PRIMARY KEY, source TEXT NOT NULL, spec TEXT NOT NULL,
                         updated_at INTEGER NOT NULL);
    CREATE TABLE secrets (owner TEXT NOT NULL, pointer TEXT NOT NULL, sealed BLOB NOT NULL,
                          PRIMARY KEY (owner, pointer));
    )sql",
    R"sql(
    CREATE TABLE api_tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                             label TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE snapshots (key TEXT PRIMARY KEY, source TEXT NOT NULL, payload BLOB NOT NULL,
                            fetched_at INTEGER NOT NULL, records INTEGER NOT NULL);
    CREATE INDEX snapshots_by_source ON snapshots(source);
    CREATE TABLE source_status (source TEXT PRIMARY KEY, last_fetch_at INTEGER NOT NULL,
                                last_success_at INTEGER NOT NULL, records INTEGER NOT NULL,
                                last_error TEXT NOT NULL, last_error_hint TEXT NOT NULL);
    )sql",
    // Snapshots beyond one chunk (SQLite caps a value at 1 GB; a million SharePoint items
    // are ~1.7 GB of JSON): snapshots.payload holds the first chunk, these the rest.
    R"sql(
    CREATE TABLE snapshot_chunks (key TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
                                  PRIMARY KEY (key, seq));
    )sql",
    // Versions (the API's ETags): each write takes the next value of meta.revision, so a
    // version never repeats. Rows from before keep 0 until they are next written.
    R"sql(
    ALTER TABLE sources ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fields ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    )sql",
    // Incremental sync: the cursor (Graph's delta link) kept with its snapshot, and the sync
    // status (store::SyncStatus as JSON) with the source status.
    R"sql(
    ALTER TABLE snapshots ADD COLUMN cursor TEXT NOT NULL DEFAULT '';
    ALTER TABLE source_status ADD COLUMN sync TEXT NOT NULL DEFAULT '';
    )sql",
    // Targets (issue 20): specs as sources keep them (secrets in `secrets`, owner
    // "target:NAME"), and each target's sync state (its value → upstream id mapping).
    R"sql(
    CREATE TABLE targets (name TEXT PRIMARY KEY, type TEXT NOT NULL, spec TEXT NOT NULL,
                          updated_at INTEGER NOT NULL);
    CREATE TABLE target_state (name TEXT PRIMARY KEY, state TEXT NOT NULL);
    )sql",
    // User grants (OAuth2 on behalf of a user), sealed whole, compare-and-swap on generation;
    // and the sign-ins begun but not yet called back (by state, used once).
    R"sql(
    CREATE TABLE user_grants (source TEXT PRIMARY KEY, sealed BLOB NOT NULL,
                              generation INTEGER NOT NULL);
    CREATE TABLE pending_sign_ins (state TEXT PRIMARY KEY, sealed BLOB NOT NULL,
                                   created_at INTEGER NOT NULL);
    )sql",
    // Cluster coordination (issue 19): leases with fencing tokens (one sync per snapshot, one
    // token request per credential across instances) and the shared token cache (sealed;
    // digest = SHA-256 of the payload, so a refused token is dropped without unsealing).
    R"sql(
    CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,
                         expires_at_ms INTEGER NOT NULL, token INTEGER NOT NULL);
    CREATE TABLE shared_tokens (key TEXT PRIMARY KEY, sealed BLOB NOT NULL, digest TEXT NOT NULL,
                                expires_at_ms INTEGER NOT NULL);
    )sql",
};

Error db_error(sqlite3* db, const std::string& what) {
  return Error(
      "store.sqlite", what + ": " + (db ? sqlite3_errmsg(db) : "no database"),
      "Check that the data directory is writable and not used by an incompatible version.");
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob64(stmt_, i, v.data(), static_cast<sqlite3_uint64>(v.size()),
                        SQLITE_TRANSIENT);
    return *this;
  }
  // Without a copy: `v` must outlive step(). For snapshots, hundreds of MB, where a copy would
  // double the server's peak memory while one is written.
  Stmt& bind_blob_in_place(int i, std::string_view v) {
    sqlite3_bind_blob64(stmt_, i, v.data(), static_cast<sqlite3_uint64>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  void append_blob(int col, std::string& out) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
    if (p) out.append(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// A read-only blob handle (incremental blob I/O), moved from row to row of one column.
class Blob {
 public:
  Blob() = default;
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;
  ~Blob() { sqlite3_blob_close(blob_); }
  Status open(sqlite3* db, const char* table, const char* column, std::int64_t row) {
    db_ = db;
    const int rc = blob_ ? sqlite3_blob_reopen(blob_, row)
                         : sqlite3_blob_open(db, "main", table, column, row, 0, &blob_);
    if (rc != SQLITE_OK) return db_error(db, "reading snapshot");
    return ok_status();
  }
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(sqlite3_blob_bytes(blob_)); }
  // The whole value, into `into`'s rooms, as large as they come (at most 1 GB per call).
  Status read_into(ByteReceiver& into) {
    const int size = sqlite3_blob_bytes(blob_);
    for (int offset = 0; offset < size;) {
      EXTDATA_ASSIGN_OR_RETURN(const std::span<char> room, into.room());
      const int n = static_cast<int>(std::min<size_t>(room.size(), size - offset));
      if (sqlite3_blob_read(blob_, room.data(), n, offset) != SQLITE_OK) {
        return db_error(db_, "reading snapshot");
      }
      EXTDATA_TRY(into.received(static_cast<size_t>(n)));
      offset += n;
    }
    return ok_status();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_blob* blob_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, SecretBox box, SqliteOptions options)
      : db_(db), box_(std::move(box)), options_(options) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status migrate() {
    EXTDATA_TRY(
        exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"));
    int version = 0;
    {
      Stmt s(db_, "SELECT value FROM meta WHERE key='schema_version'");
      if (s.step() == SQLITE_ROW) version = std::stoi(s.text(0));
    }
    if (version > static_cast<int>(kMigrations.size()))
      return Error("store.version",
                   "the data directory has schema version " + std::to_string(version) +
                       ", newer than this extdata understands (" +
                       std::to_string(kMigrations.size()) + ")",
                   "Run a newer extdata, or point --data at another directory.");
    for (int v = version; v < static_cast<int>(kMigrations.size()); ++v) {
      EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
      Status s = exec(kMigrations[v]);
      if (s.ok()) {
        Stmt up(db_,
                "INSERT INTO meta(key,value) VALUES('schema_version',?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
        up.bind(1, std::to_string(v + 1));
        if (up.step() != SQLITE_DONE) s = db_error(db_, "recording the schema version");
      }
      if (!s.ok()) {
        (void)exec("ROLLBACK");  // the original error is what matters
        return s;
      }
      EXTDATA_TRY(exec("COMMIT"));
    }
    // A wrong master key is caught here, before any secret is written with it.
    Stmt get(db_, "SELECT value FROM meta WHERE key='key_check'");
    if (get.step() == SQLITE_ROW) {
      if (get.text(0) != box_.key_check())
        return stored::wrong_master_key(
            "this data directory",
            "Use the original key (EXTDATA_MASTER_KEY or master.key in the data directory).");
    } else {
      Stmt put(db_, "INSERT INTO meta(key,value) VALUES('key_check',?)");
      put.bind(1, box_.key_check());
      if (put.step() != SQLITE_DONE) return db_error(db_, "recording the key check");
    }
    return ok_status();
  }

  Result<std::vector<config::SourceConfig>> list_sources() override {
    std::lock_guard lock(mu_);
    std::vector<config::SourceConfig> out;
    Stmt s(db_, "SELECT spec, name FROM sources ORDER BY name");
    while (s.step() == SQLITE_ROW) {
      EXTDATA_ASSIGN_OR_RETURN(auto src, load_source(s.text(1), s.text(0)));
      out.push_back(std::move(src));
    }
    return out;
  }

  Result<std::optional<config::SourceConfig>> get_source(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto found, get_source_versioned(name));
    if (!found) return std::optional<config::SourceConfig>{};
    return std::optional<config::SourceConfig>(std::move(found->value));
  }

  Result<std::optional<Versioned<config::SourceConfig>>> get_source_versioned(
      const std::string& name) override {
    std::lock_guard lock(mu_);
    return read_source(name);
  }

  Result<Written> put_source(const config::SourceConfig& source, const Expect& expect) override {
    std::lock_guard lock(mu_);
    Written written;
    EXTDATA_TRY(in_transaction([&]() -> Status {
      EXTDATA_ASSIGN_OR_RETURN(written, write_source(source, expect));
      return ok_status();
    }));
    return written;
  }

  Result<bool> delete_source(const std::string& name, const Expect& expect) override {
    std::lock_guard lock(mu_);
    {
      Stmt users(db_, "SELECT name FROM fields WHERE source=? ORDER BY name");
      users.bind(1, name);
      std::string names;
      while (users.step() == SQLITE_ROW) names += (names.empty() ? "" : ", ") + users.text(0);
      if (!names.empty())
        return Error("store.in_use", "source '" + name + "' is used by field(s) " + names,
                     "Delete or change those fields first.");
    }
    bool existed = false;
    Status s = in_transaction([&]() -> Status {
      EXTDATA_TRY(check_stored("source", "sources", name, expect));
      Stmt del(db_, "DELETE FROM sources WHERE name=?");
      del.bind(1, name);
      if (del.step() != SQLITE_DONE) return db_error(db_, "deleting source");
      existed = sqlite3_changes(db_) > 0;
      Stmt sec(db_, "DELETE FROM secrets WHERE owner=?");
      sec.bind(1, "source:" + name);
      if (sec.step() != SQLITE_DONE) return db_error(db_, "deleting secrets");
      Stmt chunks(db_,
                  "DELETE FROM snapshot_chunks WHERE key IN "
                  "(SELECT key FROM snapshots WHERE source=?)");
      chunks.bind(1, name);
      if (chunks.step() != SQLITE_DONE) return db_error(db_, "deleting snapshots");
      Stmt snap(db_, "DELETE FROM snapshots WHERE source=?");
      snap.bind(1, name);
      if (snap.step() != SQLITE_DONE) return db_error(db_, "deleting snapshots");
      Stmt st(db_, "DELETE FROM source_status WHERE source=?");
      st.bind(1, name);
      if (st.step() != SQLITE_DONE) return db_error(db_, "deleting status");
      Stmt grant(db_, "DELETE FROM user_grants WHERE source=?");
      grant.bind(1, name);
      if (grant.step() != SQLITE_DONE) return db_error(db_, "deleting the user grant");
      return ok_status();
    });
    if (!s.ok()) return std::move(s).error();
    return existed;
  }

  Result<std::vector<config::FieldConfig>> list_fields() override {
    std::lock_guard lock(mu_);
    std::vector<config::FieldConfig> out;
    Stmt s(db_, "SELECT name, source, spec FROM fields ORDER BY name");
    while (s.step() == SQLITE_ROW) {
      config::FieldConfig f;
      f.name = s.text(0);
      f.source = s.text(1);
      f.spec = json::parse(s.text(2), nullptr, false);
      out.push_back(std::move(f));
    }
    return out;
  }

  Result<std::optional<config::FieldConfig>> get_field(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto found, get_field_versioned(name));
    if (!found) return std::optional<config::FieldConfig>{};
    return std::optional<config::FieldConfig>(std::move(found->value));
  }

  Result<std::optional<Versioned<config::FieldConfig>>> get_field_versioned(
      const std::string& name) override {
    std::lock_guard lock(mu_);
    return read_field(name);
  }

  Result<Written> put_field(const config::FieldConfig& field, const Expect& expect) override {
    std::lock_guard lock(mu_);
    Written written;
    EXTDATA_TRY(in_transaction([&]() -> Status {
      EXTDATA_ASSIGN_OR_RETURN(written, write_field(field, expect));
      return ok_status();
    }));
    return written;
  }

  Result<bool> delete_field(const std::string& name, const Expect& expect) override {
    std::lock_guard lock(mu_);
    bool existed = false;
    EXTDATA_TRY(in_transaction([&]() -> Status {
      EXTDATA_TRY(check_stored("field", "fields", name, expect));
      Stmt del(db_, "DELETE FROM fields WHERE name=?");
      del.bind(1, name);
      if (del.step() != SQLITE_DONE) return db_error(db_, "deleting field");
      existed = sqlite3_changes(db_) > 0;
      return ok_status();
    }));
    return existed;
  }

  Result<std::vector<AppliedItem>> apply(const config::ConfigFile& file,
                                         const ApplyOptions& options) override {
    std::lock_guard lock(mu_);
    std::vector<AppliedItem> items;
    auto body = [&]() -> Status {
      for (const auto& s : file.sources) {
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_source(s, Expect{}));
        items.push_back({"source", s.name, std::move(w)});
      }
      for (const auto& t : file.targets) {
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_target(t));
        items.push_back({"target", t.name, std::move(w)});
      }
      for (const auto& f : file.fields) {
        Stmt exists(db_, "SELECT 1 FROM sources WHERE name=?");
        exists.bind(1, f.source);
        if (exists.step() != SQLITE_ROW)
          return Error("store.unknown_source",
                       "field '" + f.name + "' uses unknown source '" + f.source + "'",
                       "Define the source in the same file or apply it first.");
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_field(f, Expect{}));
        items.push_back({"field", f.name, std::move(w)});
      }
      return ok_status();
    };
    EXTDATA_TRY(options.dry_run ? rolled_back(body) : in_transaction(body));
    return items;
  }

  Result<std::vector<config::TargetConfig>> list_targets() override {
    std::lock_guard lock(mu_);
    std::vector<config::TargetConfig> out;
    Stmt s(db_, "SELECT spec, name FROM targets ORDER BY name");
    while (s.step() == SQLITE_ROW) {
      EXTDATA_ASSIGN_OR_RETURN(auto target, load_target(s.text(1), s.text(0)));
      out.push_back(std::move(target));
    }
    return out;
  }

  Result<std::optional<config::TargetConfig>> get_target(const std::string& name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT spec FROM targets WHERE name=?");
    s.bind(1, name);
    if (s.step() != SQLITE_ROW) return std::optional<config::TargetConfig>{};
    EXTDATA_ASSIGN_OR_RETURN(auto target, load_target(name, s.text(0)));
    return std::optional<config::TargetConfig>(std::move(target));
  }

  Result<std::string> get_target_state(const std::string& name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT state FROM target_state WHERE name=?");
    s.bind(1, name);
    if (s.step() != SQLITE_ROW) return std::string();
    return s.text(0);
  }

  Status put_target_state(const std::string& name, const std::string& state) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "INSERT INTO target_state(name, state) VALUES(?,?) "
           "ON CONFLICT(name) DO UPDATE SET state=excluded.state");
    s.bind(1, name).bind(2, state);
    if (s.step() != SQLITE_DONE) return db_error(db_, "saving target state");
    return ok_status();
  }

  Result<std::string> create_token(const std::string& role, const std::string& label,
                                   std::int64_t now) override {
    EXTDATA_TRY(stored::check_token_role(role));
    std::lock_guard lock(mu_);
    const stored::NewToken token = stored::new_token();
    Stmt s(db_, "INSERT INTO api_tokens(id, hash, role, label, created_at) VALUES(?,?,?,?,?)");
    s.bind(1, token.id).bind(2, sha256_hex(token.secret)).bind(3, role).bind(4, label);
    s.bind(5, now);
    if (s.step() != SQLITE_DONE) return db_error(db_, "creating token");
    return token.secret;
  }

  Result<std::optional<ApiToken>> find_token(const std::string& secret) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT id, role, label, created_at FROM api_tokens WHERE hash=?");
    s.bind(1, sha256_hex(secret));
    if (s.step() != SQLITE_ROW) return std::optional<ApiToken>{};
    return std::optional<ApiToken>(ApiToken{s.text(0), s.text(1), s.text(2), s.integer(3)});
  }

  Result<std::vector<ApiToken>> list_tokens() override {
    std::lock_guard lock(mu_);
    std::vector<ApiToken> out;
    Stmt s(db_, "SELECT id, role, label, created_at FROM api_tokens ORDER BY created_at, id");
    while (s.step() == SQLITE_ROW) out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
    return out;
  }

  Result<bool> delete_token(const std::string& id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "DELETE FROM api_tokens WHERE id=?");
    s.bind(1, id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "deleting token");
    return sqlite3_changes(db_) > 0;
  }

  Status put_snapshot(const Snapshot& snap, const Fence& fence) override {
    std::lock_guard lock(mu_);
    EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
    Status written = check_fence(fence);
    if (written.ok()) written = write_snapshot(snap);
    if (!written.ok()) {
      (void)exec("ROLLBACK");  // the old snapshot stays whole
      return written;
    }
    return exec("COMMIT");
  }

  Result<std::optional<Snapshot>> get_snapshot(const std::string& key) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT key, source, payload, fetched_at, records, "
           "(SELECT coalesce(sum(length(data)), 0) FROM snapshot_chunks WHERE key=?1), cursor "
           "FROM snapshots WHERE key=?1");
    s.bind(1, key);
    if (s.step() != SQLITE_ROW) return std::optional<Snapshot>{};
    Snapshot snapshot{s.text(0), std::string(), std::string(), s.integer(3),
                      static_cast<size_t>(s.integer(4))};
    snapshot.source = s.text(1);
    snapshot.cursor = s.text(6);
    snapshot.payload.reserve(static_cast<size_t>(s.integer(5)) + sqlite3_column_bytes(s.raw(), 2));
    s.append_blob(2, snapshot.payload);
    Stmt chunks(db_, "SELECT data FROM snapshot_chunks WHERE key=? ORDER BY seq");
    chunks.bind(1, key);
    int rc;
    while ((rc = chunks.step()) == SQLITE_ROW) chunks.append_blob(0, snapshot.payload);
    if (rc != SQLITE_DONE) return db_error(db_, "reading snapshot");
    return std::optional<Snapshot>(std::move(snapshot));
  }

  Status put_snapshot_pieces(const Snapshot& snap,
                             const std::function<Status(const PieceSink&)>& write,
                             const Fence& fence) override {
    std::lock_guard lock(mu_);
    EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
    Snapshot meta = snap;
    meta.payload.clear();
    Status written = check_fence(fence);
    if (written.ok()) written = write_snapshot(meta);  // the row, no chunks
    std::int64_t seq = 1;
    const size_t chunk = std::max<size_t>(1, options_.snapshot_chunk_bytes);
    const PieceSink sink = [&](std::string_view piece) -> Status {
      for (size_t offset = 0; offset < piece.size(); offset += chunk, ++seq) {
        Stmt part(db_, "INSERT INTO snapshot_chunks(key, seq, data) VALUES(?,?,?)");
        part.bind(1, snap.key).bind(2, seq).bind_blob_in_place(3, piece.substr(offset, chunk));
        if (part.step() != SQLITE_DONE) return db_error(db_, "saving snapshot");
      }
      return ok_status();
    };
    if (written.ok()) written = write(sink);
    if (!written.ok()) {
      (void)exec("ROLLBACK");  // the old snapshot stays whole
      return written;
    }
    return exec("COMMIT");
  }

  Result<std::optional<Snapshot>> read_snapshot_pieces(const std::string& key,
                                                       const PieceSink& each) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT key, source, payload, fetched_at, records, cursor FROM snapshots "
           "WHERE key=?");
    s.bind(1, key);
    if (s.step() != SQLITE_ROW) return std::optional<Snapshot>{};
    Snapshot snapshot;
    snapshot.key = s.text(0);
    snapshot.source = s.text(1);
    snapshot.fetched_at = s.integer(3);
    snapshot.records = static_cast<size_t>(s.integer(4));
    snapshot.cursor = s.text(5);
    // Each blob is handed over where SQLite holds it: no copy, and only one row at a time.
    const auto blob = [](Stmt& st, int column) {
      const void* data = sqlite3_column_blob(st.raw(), column);
      return std::string_view(
          static_cast<const char*>(data),
          data ? static_cast<size_t>(sqlite3_column_bytes(st.raw(), column)) : 0);
    };
    if (auto first = blob(s, 2); !first.empty()) EXTDATA_TRY(each(first));
    Stmt chunks(db_, "SELECT data FROM snapshot_chunks WHERE key=? ORDER BY seq");
    chunks.bind(1, key);
    int rc;
    while ((rc = chunks.step()) == SQLITE_ROW) EXTDATA_TRY(each(blob(chunks, 0)));
    if (rc != SQLITE_DONE) return db_error(db_, "reading snapshot");
    return std::optional<Snapshot>(std::move(snapshot));
  }

  Result<std::optional<Snapshot>> read_snapshot_into(const std::string& key,
                                                     ByteReceiver& into) override {
    std::lock_guard lock(mu_);
    // One read transaction: the row and its chunks as one writer committed them.
    EXTDATA_TRY(exec("BEGIN"));
    auto read = read_into(key, into);
    (void)exec("COMMIT");  // read only: nothing to keep
    return read;
  }

  Result<std::optional<Snapshot>> get_snapshot_info(const std::string& key) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT key, source, fetched_at, records, cursor FROM snapshots WHERE key=?");
    s.bind(1, key);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<Snapshot>{};
    if (rc != SQLITE_ROW) return db_error(db_, "reading snapshot");
    Snapshot snapshot = snapshot_info(s);
    return std::optional<Snapshot>(std::move(snapshot));
  }

  Result<size_t> count_snapshots(const std::string& source) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT count(*) FROM snapshots WHERE source=?");
    s.bind(1, source);
    if (s.step() != SQLITE_ROW) return db_error(db_, "counting snapshots");
    return static_cast<size_t>(s.integer(0));
  }

  Result<size_t> trim_snapshots(const std::string& source, size_t keep) override {
    std::lock_guard lock(mu_);
    EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
    // Ties on fetched_at (one second) go by key, so the choice is stable.
    static constexpr const char* kOld =
        "SELECT key FROM snapshots WHERE source=?1 ORDER BY fetched_at DESC, key DESC "
        "LIMIT -1 OFFSET ?2";
    Stmt chunks(db_,
                (std::string("DELETE FROM snapshot_chunks WHERE key IN (") + kOld + ")").c_str());
    chunks.bind(1, source).bind(2, static_cast<std::int64_t>(keep));
    Stmt rows(db_, (std::string("DELETE FROM snapshots WHERE key IN (") + kOld + ")").c_str());
    rows.bind(1, source).bind(2, static_cast<std::int64_t>(keep));
    if (chunks.step() != SQLITE_DONE || rows.step() != SQLITE_DONE) {
      Error error = db_error(db_, "deleting old snapshots");
      (void)exec("ROLLBACK");
      return error;
    }
    const auto deleted = static_cast<size_t>(sqlite3_changes(db_));
    EXTDATA_TRY(exec("COMMIT"));
    return deleted;
  }

  Status put_status(const SourceStatus& st, const Fence& fence) override {
    std::lock_guard lock(mu_);
    if (fence.lease.empty()) return write_status(st);
    return in_transaction([&]() -> Status {
      EXTDATA_TRY(check_fence(fence));
      return write_status(st);
    });
  }

  Status write_status(const SourceStatus& st) {
    Stmt s(db_,
           "INSERT INTO source_status VALUES(?,?,?,?,?,?,?) ON CONFLICT(source) DO UPDATE SET "
           "last_fetch_at=excluded.last_fetch_at, last_success_at=excluded.last_success_at, "
           "records=excluded.records, last_error=excluded.last_error, "
           "last_error_hint=excluded.last_error_hint, sync=excluded.sync");
    s.bind(1, st.source).bind(2, st.last_fetch_at).bind(3, st.last_success_at);
    s.bind(4, static_cast<std::int64_t>(st.records))
        .bind(5, st.last_error)
        .bind(6, st.last_error_hint)
        .bind(7, sync_to_json(st.sync).dump());
    if (s.step() != SQLITE_DONE) return db_error(db_, "saving source status");
    return ok_status();
  }

  Result<std::optional<SourceStatus>> get_status(const std::string& source) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT source, last_fetch_at, last_success_at, records, last_error, last_error_hint, "
           "sync FROM source_status WHERE source=?");
    s.bind(1, source);
    if (s.step() != SQLITE_ROW) return std::optional<SourceStatus>{};
    return std::optional<SourceStatus>(SourceStatus{s.text(0), s.integer(1), s.integer(2),
                                                    static_cast<size_t>(s.integer(3)), s.text(4),
                                                    s.text(5), sync_from_text(s.text(6))});
  }

  Result<std::optional<GrantRecord>> get_grant(const std::string& source) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT sealed, generation FROM user_grants WHERE source=?");
    s.bind(1, source);
    if (s.step() != SQLITE_ROW) return std::optional<GrantRecord>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(s.text(0)));
    return std::optional<GrantRecord>(GrantRecord{std::move(plain), s.integer(1)});
  }

  Result<bool> put_grant(const std::string& source, const std::string& payload,
                         std::int64_t expected_generation) override {
    std::lock_guard lock(mu_);
    // One statement: the generation check and the write cannot be split by another process.
    Stmt s(db_, expected_generation == 0
                    ? "INSERT INTO user_grants(source, sealed, generation) VALUES(?1, ?2, 1) "
                      "ON CONFLICT(source) DO NOTHING"
                    : "UPDATE user_grants SET sealed=?2, generation=generation+1 "
                      "WHERE source=?1 AND generation=?3");
    s.bind(1, source).bind_blob(2, box_.seal(payload));
    if (expected_generation != 0) s.bind(3, expected_generation);
    if (s.step() != SQLITE_DONE) return db_error(db_, "saving the user grant");
    return sqlite3_changes(db_) > 0;
  }

  Status put_pending_sign_in(const std::string& state, const std::string& payload,
                             std::int64_t created_at) override {
    std::lock_guard lock(mu_);
    Stmt old(db_, "DELETE FROM pending_sign_ins WHERE created_at < ?");
    old.bind(1, created_at - kPendingSignInSeconds);
    if (old.step() != SQLITE_DONE) return db_error(db_, "expiring sign-ins");
    Stmt s(db_, "INSERT INTO pending_sign_ins(state, sealed, created_at) VALUES(?,?,?)");
    s.bind(1, state).bind_blob(2, box_.seal(payload)).bind(3, created_at);
    if (s.step() != SQLITE_DONE) return db_error(db_, "saving the sign-in");
    return ok_status();
  }

  Result<std::optional<std::string>> take_pending_sign_in(const std::string& state,
                                                          std::int64_t now) override {
    std::lock_guard lock(mu_);
    // DELETE … RETURNING: of two callbacks with one state, exactly one gets it.
    Stmt s(db_, "DELETE FROM pending_sign_ins WHERE state=? RETURNING sealed, created_at");
    s.bind(1, state);
    if (s.step() != SQLITE_ROW) return std::optional<std::string>{};
    const std::string sealed = s.text(0);
    const std::int64_t created_at = s.integer(1);
    while (s.step() == SQLITE_ROW) {
    }
    if (now - created_at > kPendingSignInSeconds) return std::optional<std::string>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(sealed));
    return std::optional<std::string>(std::move(plain));
  }

  Result<std::optional<Lease>> acquire_lease(const std::string& name, const std::string& holder,
                                             std::int64_t now_ms, std::int64_t ttl_ms) override {
    if (ttl_ms <= 0 || holder.empty())
      return Error("store.lease", "a lease needs a holder and a positive lifetime");
    std::lock_guard lock(mu_);
    // One statement: taking a free or expired lease (token + 1), renewing one's own (token
    // kept) or leaving another holder's alone cannot be split by another process.
    Stmt s(db_,
           "INSERT INTO leases(name, holder, expires_at_ms, token) VALUES(?1, ?2, ?3 + ?4, 1) "
           "ON CONFLICT(name) DO UPDATE SET holder=?2, expires_at_ms=?3 + ?4, "
           "token=CASE WHEN holder=?2 THEN token ELSE token + 1 END "
           "WHERE holder=?2 OR expires_at_ms <= ?3 "
           "RETURNING name, holder, expires_at_ms, token");
    s.bind(1, name).bind(2, holder).bind(3, now_ms).bind(4, ttl_ms);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<Lease>{};
    if (rc != SQLITE_ROW) return db_error(db_, "acquiring the lease " + name);
    Lease lease{s.text(0), s.text(1), s.integer(2), s.integer(3)};
    while (s.step() == SQLITE_ROW) {
    }
    return std::optional<Lease>(std::move(lease));
  }

  Result<bool> release_lease(const std::string& name, const std::string& holder) override {
    if (holder.empty()) return false;
    std::lock_guard lock(mu_);
    Stmt s(db_, "UPDATE leases SET holder='', expires_at_ms=0 WHERE name=? AND holder=?");
    s.bind(1, name).bind(2, holder);
    if (s.step() != SQLITE_DONE) return db_error(db_, "releasing the lease " + name);
    return sqlite3_changes(db_) > 0;
  }

  Result<std::optional<Lease>> get_lease(const std::string& name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT name, holder, expires_at_ms, token FROM leases WHERE name=?");
    s.bind(1, name);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<Lease>{};
    if (rc != SQLITE_ROW) return db_error(db_, "reading the lease " + name);
    return std::optional<Lease>(Lease{s.text(0), s.text(1), s.integer(2), s.integer(3)});
  }

  Result<std::optional<SharedToken>> get_shared_token(const std::string& key,
                                                      std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT sealed, expires_at_ms FROM shared_tokens WHERE key=? AND expires_at_ms>?");
    s.bind(1, key).bind(2, now_ms);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<SharedToken>{};
    if (rc != SQLITE_ROW) return db_error(db_, "reading the shared token cache");
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(s.text(0)));
    return std::optional<SharedToken>(SharedToken{std::move(plain), s.integer(1)});
  }

  Status put_shared_token(const std::string& key, const SharedToken& token) override {
    std::lock_guard lock(mu_);
    return in_transaction([&]() -> Status {
      Stmt s(db_,
             "INSERT INTO shared_tokens(key, sealed, digest, expires_at_ms) VALUES(?,?,?,?) "
             "ON CONFLICT(key) DO UPDATE SET sealed=excluded.sealed, digest=excluded.digest, "
             "expires_at_ms=excluded.expires_at_ms");
      s.bind(1, key).bind_blob(2, box_.seal(token.payload)).bind(3, sha256_hex(token.payload));
      s.bind(4, token.expires_at_ms);
      if (s.step() != SQLITE_DONE) return db_error(db_, "saving to the shared token cache");
      // Tokens of credentials no longer used would otherwise stay forever.
      Stmt old(db_, "DELETE FROM shared_tokens WHERE expires_at_ms <= ? AND key <> ?");
      old.bind(1, token.expires_at_ms - kSharedTokenKeepMs).bind(2, key);
      if (old.step() != SQLITE_DONE) return db_error(db_, "expiring shared tokens");
      return ok_status();
    });
  }

  Result<bool> drop_shared_token(const std::string& key, const std::string& payload) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "DELETE FROM shared_tokens WHERE key=? AND digest=?");
    s.bind(1, key).bind(2, sha256_hex(payload));
    if (s.step() != SQLITE_DONE) return db_error(db_, "dropping a shared token");
    return sqlite3_changes(db_) > 0;
  }

  Result<std::int64_t> external_change_count() override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "PRAGMA data_version");
    if (s.step() != SQLITE_ROW) return db_error(db_, "reading the data version");
    return s.integer(0);
  }

 private:
  // put_shared_token deletes other keys' tokens that expired this long before the new one
  // expires (a token lives about an hour: those are a day past their expiry).
  static constexpr std::int64_t kSharedTokenKeepMs = 25LL * 3600 * 1000;

  // Inside the caller's transaction: an error unless `fence` is empty or still current.
  Status check_fence(const Fence& fence) {
    if (fence.lease.empty()) return ok_status();
    Stmt s(db_, "SELECT token FROM leases WHERE name=?");
    s.bind(1, fence.lease);
    const int rc = s.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(db_, "checking the lease");
    if (rc == SQLITE_ROW && s.integer(0) == fence.token) return ok_status();
    return Error("store.fenced",
                 "the lease " + fence.lease + " was taken over by another instance (token " +
                     std::to_string(fence.token) + " is stale); this write was refused",
                 "Nothing to do: the instance that holds the lease now writes the result.");
  }

  Status write_snapshot(const Snapshot& snap) {
    const std::string_view payload = snap.payload;
    const size_t chunk = std::max<size_t>(1, options_.snapshot_chunk_bytes);
    Stmt s(db_,
           "INSERT INTO snapshots(key, source, payload, fetched_at, records, cursor) "
           "VALUES(?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET source=excluded.source, "
           "payload=excluded.payload, fetched_at=excluded.fetched_at, records=excluded.records, "
           "cursor=excluded.cursor");
    s.bind(1, snap.key).bind(2, snap.source).bind_blob_in_place(3, payload.substr(0, chunk));
    s.bind(4, snap.fetched_at).bind(5, static_cast<std::int64_t>(snap.records));
    s.bind(6, snap.cursor);
    if (s.step() != SQLITE_DONE) return db_error(db_, "saving snapshot");
    Stmt old(db_, "DELETE FROM snapshot_chunks WHERE key=?");
    old.bind(1, snap.key);
    if (old.step() != SQLITE_DONE) return db_error(db_, "saving snapshot");
    std::int64_t seq = 1;
    for (size_t offset = chunk; offset < payload.size(); offset += chunk, ++seq) {
      Stmt part(db_, "INSERT INTO snapshot_chunks(key, seq, data) VALUES(?,?,?)");
      part.bind(1, snap.key).bind(2, seq).bind_blob_in_place(3, payload.substr(offset, chunk));
      if (part.step() != SQLITE_DONE) return db_error(db_, "saving snapshot");
    }
    return ok_status();
  }

  // A snapshot's description from a row whose first columns are key, source, fetched_at,
  // records, cursor (its payload is read apart).
  static Snapshot snapshot_info(const Stmt& row) {
    Snapshot snapshot;
    snapshot.key = row.text(0);
    snapshot.source = row.text(1);
    snapshot.fetched_at = row.integer(2);
    snapshot.records = static_cast<size_t>(row.integer(3));
    snapshot.cursor = row.text(4);
    return snapshot;
  }

  // read_snapshot_into within its transaction: the cells holding the bytes (the first chunk in
  // snapshots.payload, the rest in snapshot_chunks) are sized through blob handles, then read
  // with sqlite3_blob_read straight into `into`'s rooms: SQLite copies each overflow page's
  // content there (reading it from the file directly when it can), never assembling a row.
  Result<std::optional<Snapshot>> read_into(const std::string& key, ByteReceiver& into) {
    Stmt s(db_,
           "SELECT key, source, fetched_at, records, cursor, rowid FROM snapshots WHERE key=?");
    s.bind(1, key);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<Snapshot>{};
    if (rc != SQLITE_ROW) return db_error(db_, "reading snapshot");
    Snapshot snapshot = snapshot_info(s);
    std::vector<std::int64_t> chunk_rows;
    Stmt chunks(db_, "SELECT rowid FROM snapshot_chunks WHERE key=? ORDER BY seq");
    chunks.bind(1, key);
    int step;
    while ((step = chunks.step()) == SQLITE_ROW) chunk_rows.push_back(chunks.integer(0));
    if (step != SQLITE_DONE) return db_error(db_, "reading snapshot");
    Blob first, rest;
    EXTDATA_TRY(first.open(db_, "snapshots", "payload", s.integer(5)));
    std::uint64_t total = first.bytes();
    for (const std::int64_t row : chunk_rows) {
      EXTDATA_TRY(rest.open(db_, "snapshot_chunks", "data", row));
      total += rest.bytes();
    }
    EXTDATA_TRY(into.begin(total));
    EXTDATA_TRY(first.read_into(into));
    for (const std::int64_t row : chunk_rows) {
      EXTDATA_TRY(rest.open(db_, "snapshot_chunks", "data", row));
      EXTDATA_TRY(rest.read_into(into));
    }
    return std::optional<Snapshot>(std::move(snapshot));
  }

  Status exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Error("store.sqlite", "database error: " + msg, "Check the data directory.");
    }
    return ok_status();
  }

  template <typename F>
  Status in_transaction(F&& body) {
    EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
    Status s = body();
    if (!s.ok()) {
      (void)exec("ROLLBACK");  // the original error is what matters
      return s;
    }
    return exec("COMMIT");
  }

  // Runs `body` as in_transaction does, then undoes it whatever it did: a dry run.
  template <typename F>
  Status rolled_back(F&& body) {
    EXTDATA_TRY(exec("BEGIN IMMEDIATE"));
    Status s = body();
    Status undone = exec("ROLLBACK");
    return s.ok() ? undone : s;
  }

  // The next version: meta.revision + 1, stored (inside the caller's transaction).
  Result<std::string> next_version() {
    Stmt up(db_,
            "INSERT INTO meta(key, value) VALUES('revision', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1 RETURNING value");
    if (up.step() != SQLITE_ROW) return db_error(db_, "counting versions");
    return up.text(0);
  }

  Result<std::optional<std::string>> stored_version(const char* table, const std::string& name) {
    Stmt s(db_, (std::string("SELECT version FROM ") + table + " WHERE name=?").c_str());
    s.bind(1, name);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<std::string>{};
    if (rc != SQLITE_ROW) return db_error(db_, "reading a version");
    return std::optional<std::string>(std::to_string(s.integer(0)));
  }

  Status check_stored(std::string_view kind, const char* table, const std::string& name,
                      const Expect& expect) {
    if (expect.kind == Expect::Kind::any) return ok_status();
    EXTDATA_ASSIGN_OR_RETURN(auto current, stored_version(table, name));
    return check_expected(kind, name, current, expect);
  }

  Result<std::optional<Versioned<config::SourceConfig>>> read_source(const std::string& name) {
    Stmt s(db_, "SELECT spec, version FROM sources WHERE name=?");
    s.bind(1, name);
    if (s.step() != SQLITE_ROW) return std::optional<Versioned<config::SourceConfig>>{};
    EXTDATA_ASSIGN_OR_RETURN(auto src, load_source(name, s.text(0)));
    return std::optional<Versioned<config::SourceConfig>>(
        Versioned<config::SourceConfig>{std::move(src), std::to_string(s.integer(1))});
  }

  Result<std::optional<Versioned<config::FieldConfig>>> read_field(const std::string& name) {
    Stmt s(db_, "SELECT name, source, spec, version FROM fields WHERE name=?");
    s.bind(1, name);
    if (s.step() != SQLITE_ROW) return std::optional<Versioned<config::FieldConfig>>{};
    config::FieldConfig f;
    f.name = s.text(0);
    f.source = s.text(1);
    f.spec = json::parse(s.text(2), nullptr, false);
    return std::optional<Versioned<config::FieldConfig>>(
        Versioned<config::FieldConfig>{std::move(f), std::to_string(s.integer(3))});
  }

  // Compares with what is stored (secrets by their plain values), then writes if different.
  Result<Written> write_source(const config::SourceConfig& source, const Expect& expect) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, read_source(source.name));
    EXTDATA_TRY(check_expected("source", source.name,
                               current ? std::optional(current->version) : std::nullopt, expect));
    Written written = stored::plan_source_write(current, source);
    if (written.change == Change::unchanged) return written;
    EXTDATA_ASSIGN_OR_RETURN(written.version, next_version());
    EXTDATA_TRY(store_source(source, written.version));
    return written;
  }

  Result<Written> write_field(const config::FieldConfig& field, const Expect& expect) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, read_field(field.name));
    EXTDATA_TRY(check_expected("field", field.name,
                               current ? std::optional(current->version) : std::nullopt, expect));
    Written written = stored::plan_field_write(current, field);
    if (written.change == Change::unchanged) return written;
    EXTDATA_ASSIGN_OR_RETURN(written.version, next_version());
    EXTDATA_TRY(store_field(field, written.version));
    return written;
  }

  Status store_source(const config::SourceConfig& source, const std::string& version) {
    // Secrets go to their own table sealed; the spec keeps only {"set": true}.
    Stmt up(db_,
            "INSERT INTO sources(name, type, spec, updated_at, version) VALUES(?,?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET type=excluded.type, spec=excluded.spec, "
            "updated_at=excluded.updated_at, version=excluded.version");
    up.bind(1, source.name).bind(2, source.type).bind(3, stored::encode_source(source));
    up.bind(4, unix_now()).bind(5, version);
    if (up.step() != SQLITE_DONE) return db_error(db_, "saving source");
    return seal_secrets(stored::source_owner(source.name), source.spec, source.secret_pointers);
  }

  // A target as it is stored: unchanged when the spec (secrets included) is the same.
  Result<Written> write_target(const config::TargetConfig& target) {
    std::optional<config::TargetConfig> current;
    Stmt cur(db_, "SELECT spec FROM targets WHERE name=?");
    cur.bind(1, target.name);
    if (cur.step() == SQLITE_ROW) {
      EXTDATA_ASSIGN_OR_RETURN(auto found, load_target(target.name, cur.text(0)));
      current = std::move(found);
    }
    Written written = stored::plan_target_write(current, target);
    if (written.change == Change::unchanged) return written;
    Stmt up(db_,
            "INSERT INTO targets(name, type, spec, updated_at) VALUES(?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET type=excluded.type, spec=excluded.spec, "
            "updated_at=excluded.updated_at");
    up.bind(1, target.name).bind(2, target.type).bind(3, stored::encode_target(target));
    up.bind(4, unix_now());
    if (up.step() != SQLITE_DONE) return db_error(db_, "saving target");
    EXTDATA_TRY(
        seal_secrets(stored::target_owner(target.name), target.spec, target.secret_pointers));
    return written;
  }

  Status seal_secrets(const std::string& owner, const json& spec,
                      const std::set<std::string>& pointers) {
    Stmt clear(db_, "DELETE FROM secrets WHERE owner=?");
    clear.bind(1, owner);
    if (clear.step() != SQLITE_DONE) return db_error(db_, "replacing secrets");
    for (const auto& secret : stored::seal_secrets(spec, pointers, box_)) {
      Stmt sec(db_, "INSERT INTO secrets(owner, pointer, sealed) VALUES(?,?,?)");
      sec.bind(1, owner).bind(2, secret.pointer).bind_blob(3, secret.sealed);
      if (sec.step() != SQLITE_DONE) return db_error(db_, "saving secret");
    }
    return ok_status();
  }

  std::vector<stored::SealedSecret> secrets_of(const std::string& owner) {
    std::vector<stored::SealedSecret> out;
    Stmt s(db_, "SELECT pointer, sealed FROM secrets WHERE owner=?");
    s.bind(1, owner);
    while (s.step() == SQLITE_ROW) out.push_back({s.text(0), s.text(1)});
    return out;
  }

  Result<config::TargetConfig> load_target(const std::string& name, const std::string& text) {
    return stored::decode_target(text, secrets_of(stored::target_owner(name)), box_);
  }

  Status store_field(const config::FieldConfig& field, const std::string& version) {
    Stmt up(db_,
            "INSERT INTO fields(name, source, spec, updated_at, version) VALUES(?,?,?,?,?) "
            "ON CONFLICT(name) DO UPDATE SET source=excluded.source, spec=excluded.spec, "
            "updated_at=excluded.updated_at, version=excluded.version");
    up.bind(1, field.name).bind(2, field.source).bind(3, field.spec.dump()).bind(4, unix_now());
    up.bind(5, version);
    if (up.step() != SQLITE_DONE) return db_error(db_, "saving field");
    return ok_status();
  }

  Result<config::SourceConfig> load_source(const std::string& name, const std::string& text) {
    return stored::decode_source(text, secrets_of(stored::source_owner(name)), box_);
  }

  std::mutex mu_;
  sqlite3* db_;
  SecretBox box_;
  SqliteOptions options_;
};

}  // namespace

std::string resolve_data_dir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("EXTDATA_DATA"); env && *env) return env;
  return "./extdata-data";
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir) {
  return open_sqlite_store(data_dir, SqliteOptions{});
}

namespace {

// A store whose key file is gone must not get a fresh key: its secrets would be lost for
// good, silently. The operator restores the key instead.
Status check_key_not_lost(const std::string& data_dir) {
  if (SecretBox::key_outside_data_dir()) return ok_status();
  std::error_code ec;
  const std::string key = data_dir + "/master.key", db = data_dir + "/extdata.db";
  if (std::filesystem::exists(key, ec) || !std::filesystem::exists(db, ec)) return ok_status();
  return Error("store.master_key_missing",
               "the data directory " + data_dir + " has a store (extdata.db) but no master.key",
               "Restore master.key from your backup (or set EXTDATA_MASTER_KEY to the key); a "
               "new key could not decrypt the stored secrets, so none is made.");
}

// The store and SQLite's -wal and -shm files (created with the database's mode) are 0600:
// they hold sealed secrets, tokens' hashes and upstream data.
Status make_private(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error("store.data_dir", "cannot create " + path + ": " + std::strerror(errno),
                 "Check that the data directory is writable.");
  ::close(fd);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path + suffix;
    if (::chmod(file.c_str(), 0600) != 0 && errno != ENOENT)
      return Error("store.data_dir", "cannot make " + file + " private: " + std::strerror(errno),
                   "Run: chmod 600 " + file);
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir,
                                                 const SqliteOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return Error("store.data_dir",
                 "cannot create the data directory " + data_dir + ": " + ec.message(),
                 "Pass --data DIR (or set EXTDATA_DATA) to a writable directory.");
  EXTDATA_TRY(check_key_not_lost(data_dir));
  EXTDATA_ASSIGN_OR_RETURN(SecretBox box, SecretBox::open(data_dir + "/master.key"));
  sqlite3* db = nullptr;
  const std::string path = data_dir + "/extdata.db";
  EXTDATA_TRY(make_private(path));
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Error e = db_error(db, "cannot open " + path);
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db, std::move(box), options);
  char* err = nullptr;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                   // A snapshot write grows the WAL by its size; shrink it after checkpoints.
                   "PRAGMA journal_size_limit=67108864;",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    return Error("store.sqlite", "cannot configure " + path + ": " + msg,
                 "Check the data directory.");
  }
  EXTDATA_TRY(store->migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace extdata::store
