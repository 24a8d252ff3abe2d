// The shared store on PostgreSQL (postgres_store.h).
#include "store/postgres/postgres_store.h"

#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "store/postgres/pg.h"
#include "store/postgres/schema.h"
#include "store/secret_box.h"
#include "store/stored_config.h"

namespace extdata::store {

using nlohmann::json;
using pg::Params;
using pg::Rows;

namespace {

constexpr const char* kChannel = "extdata_changes";
// Configuration writes (sources, fields, targets, apply) take this transaction lock, so that
// the Expect check and the write cannot interleave with another instance's.
constexpr const char* kConfigLock = "SELECT pg_advisory_xact_lock(hashtext('extdata.config'))";

std::string default_instance_id() {
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  unsigned char raw[4];
  randombytes_buf(raw, sizeof raw);
  char hex[9];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + hex;
}

// The connection that LISTENs, read without blocking by external_change_count().
class Listener {
 public:
  Listener(pg::Pool& pool, std::string instance_id)
      : pool_(pool), instance_id_(std::move(instance_id)) {}

  Result<std::int64_t> count() {
    std::lock_guard lock(mu_);
    if (!conn_ || conn_->broken()) EXTDATA_TRY(listen());
    const bool alive = conn_->consume_pending([&](PGnotify* n) {
      if (instance_id_ != n->extra) ++count_;
    });
    if (!alive) {
      pool_.record(false);
      conn_.reset();
      // Try at once: a restart that is over already costs no failed call.
      EXTDATA_TRY(listen());
    }
    return count_;
  }

 private:
  Status listen() {
    const bool again = conn_ != nullptr || ever_;
    conn_.reset();
    auto conn = pg::connect(pool_.target());
    if (!conn.ok()) {
      pool_.record(false);
      return std::move(conn).error();
    }
    EXTDATA_TRY((*conn)->run(std::string("LISTEN ") + kChannel));
    conn_ = std::move(conn).value();
    pool_.record(true);
    ever_ = true;
    if (again) ++count_;  // what was written while nobody listened is unknown: look again
    return ok_status();
  }

  pg::Pool& pool_;
  const std::string instance_id_;
  std::mutex mu_;
  std::unique_ptr<pg::Connection> conn_;
  bool ever_ = false;
  std::int64_t count_ = 0;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(pg::Target target, SecretBox box, PostgresOptions options)
      : pool_(std::move(target), options.max_connections),
        box_(std::move(box)),
        options_(std::move(options)),
        instance_id_(options_.instance_id.empty() ? default_instance_id() : options_.instance_id),
        listener_(pool_, instance_id_) {}

  Status open() {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_TRY(pg::migrate_schema(*conn, box_.key_check()));
    auto listening = listener_.count();  // LISTEN before the first write anyone makes
    if (!listening.ok()) return std::move(listening).error();
    return ok_status();
  }

  Result<std::vector<config::SourceConfig>> list_sources() override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("SELECT name, spec FROM sources ORDER BY name")));
    EXTDATA_ASSIGN_OR_RETURN(auto secrets, secrets_by_owner(*conn, "source:"));
    std::vector<config::SourceConfig> out;
    for (int r = 0; r < rows.size(); ++r) {
      EXTDATA_ASSIGN_OR_RETURN(
          auto src, stored::decode_source(rows.text(r, 1),
                                          secrets[stored::source_owner(rows.text(r, 0))], box_));
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
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    return track(read_source(*conn, name));
  }

  Result<Written> put_source(const config::SourceConfig& source, const Expect& expect) override {
    Written written;
    EXTDATA_TRY(in_transaction([&](pg::Connection& c) -> Status {
      EXTDATA_TRY(lock_config(c));
      EXTDATA_ASSIGN_OR_RETURN(written, write_source(c, source, expect));
      return ok_status();
    }));
    return written;
  }

  Result<bool> delete_source(const std::string& name, const Expect& expect) override {
    bool existed = false;
    EXTDATA_TRY(in_transaction([&](pg::Connection& c) -> Status {
      EXTDATA_TRY(lock_config(c));
      EXTDATA_ASSIGN_OR_RETURN(
          Rows users,
          c.exec("SELECT name FROM fields WHERE source=$1 ORDER BY name", Params().text(name)));
      std::string names;
      for (int r = 0; r < users.size(); ++r) names += (r ? ", " : "") + users.text(r, 0);
      if (!names.empty())
        return Error("store.in_use", "source '" + name + "' is used by field(s) " + names,
                     "Delete or change those fields first.");
      EXTDATA_TRY(
          check_stored(c, "source", "SELECT version FROM sources WHERE name=$1", name, expect));
      EXTDATA_ASSIGN_OR_RETURN(Rows del,
                               c.exec("DELETE FROM sources WHERE name=$1", Params().text(name)));
      existed = del.affected() > 0;
      for (const char* sql :
           {"DELETE FROM secrets WHERE owner='source:' || $1",
            "DELETE FROM snapshots WHERE source=$1",  // pieces cascade
            "DELETE FROM source_status WHERE source=$1", "DELETE FROM user_grants WHERE source=$1"})
        EXTDATA_TRY(c.exec(sql, Params().text(name)));
      return ok_status();
    }));
    return existed;
  }

  Result<std::vector<config::FieldConfig>> list_fields() override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec("SELECT name, source, spec FROM fields ORDER BY name")));
    std::vector<config::FieldConfig> out;
    for (int r = 0; r < rows.size(); ++r)
      out.push_back(stored::decode_field(rows.text(r, 0), rows.text(r, 1), rows.text(r, 2)));
    return out;
  }

  Result<std::optional<config::FieldConfig>> get_field(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto found, get_field_versioned(name));
    if (!found) return std::optional<config::FieldConfig>{};
    return std::optional<config::FieldConfig>(std::move(found->value));
  }

  Result<std::optional<Versioned<config::FieldConfig>>> get_field_versioned(
      const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    return track(read_field(*conn, name));
  }

  Result<Written> put_field(const config::FieldConfig& field, const Expect& expect) override {
    Written written;
    EXTDATA_TRY(in_transaction([&](pg::Connection& c) -> Status {
      EXTDATA_TRY(lock_config(c));
      EXTDATA_ASSIGN_OR_RETURN(written, write_field(c, field, expect));
      return ok_status();
    }));
    return written;
  }

  Result<bool> delete_field(const std::string& name, const Expect& expect) override {
    bool existed = false;
    EXTDATA_TRY(in_transaction([&](pg::Connection& c) -> Status {
      EXTDATA_TRY(lock_config(c));
      EXTDATA_TRY(
          check_stored(c, "field", "SELECT version FROM fields WHERE name=$1", name, expect));
      EXTDATA_ASSIGN_OR_RETURN(Rows del,
                               c.exec("DELETE FROM fields WHERE name=$1", Params().text(name)));
      existed = del.affected() > 0;
      return ok_status();
    }));
    return existed;
  }

  Result<std::vector<AppliedItem>> apply(const config::ConfigFile& file,
                                         const ApplyOptions& options) override {
    std::vector<AppliedItem> items;
    auto body = [&](pg::Connection& c) -> Status {
      EXTDATA_TRY(lock_config(c));
      for (const auto& s : file.sources) {
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_source(c, s, Expect{}));
        items.push_back({"source", s.name, std::move(w)});
      }
      for (const auto& t : file.targets) {
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_target(c, t));
        items.push_back({"target", t.name, std::move(w)});
      }
      for (const auto& f : file.fields) {
        EXTDATA_ASSIGN_OR_RETURN(
            Rows exists, c.exec("SELECT 1 FROM sources WHERE name=$1", Params().text(f.source)));
        if (exists.empty())
          return Error("store.unknown_source",
                       "field '" + f.name + "' uses unknown source '" + f.source + "'",
                       "Define the source in the same file or apply it first.");
        EXTDATA_ASSIGN_OR_RETURN(Written w, write_field(c, f, Expect{}));
        items.push_back({"field", f.name, std::move(w)});
      }
      return ok_status();
    };
    EXTDATA_TRY(in_transaction(body, options.dry_run ? Ending::roll_back : Ending::commit));
    return items;
  }

  Result<std::vector<config::TargetConfig>> list_targets() override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("SELECT name, spec FROM targets ORDER BY name")));
    EXTDATA_ASSIGN_OR_RETURN(auto secrets, secrets_by_owner(*conn, "target:"));
    std::vector<config::TargetConfig> out;
    for (int r = 0; r < rows.size(); ++r) {
      EXTDATA_ASSIGN_OR_RETURN(
          auto target, stored::decode_target(rows.text(r, 1),
                                             secrets[stored::target_owner(rows.text(r, 0))], box_));
      out.push_back(std::move(target));
    }
    return out;
  }

  Result<std::optional<config::TargetConfig>> get_target(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    return track(read_target(*conn, name));
  }

  Result<std::string> get_target_state(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows,
        track(conn->exec("SELECT state FROM target_state WHERE name=$1", Params().text(name))));
    return rows.empty() ? std::string() : rows.text(0, 0);
  }

  Status put_target_state(const std::string& name, const std::string& state) override {
    return write_one(
        "INSERT INTO target_state(name, state) VALUES($1,$2) "
        "ON CONFLICT(name) DO UPDATE SET state=excluded.state",
        Params().text(name).text(state));
  }

  Result<std::string> create_token(const std::string& role, const std::string& label,
                                   std::int64_t now) override {
    EXTDATA_TRY(stored::check_token_role(role));
    const stored::NewToken token = stored::new_token();
    EXTDATA_TRY(write_one(
        "INSERT INTO api_tokens(id, hash, role, label, created_at) VALUES($1,$2,$3,$4,$5)",
        Params()
            .text(token.id)
            .text(stored::sha256_hex(token.secret))
            .text(role)
            .text(label)
            .integer(now)));
    return token.secret;
  }

  Result<std::optional<ApiToken>> find_token(const std::string& secret) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("SELECT id, role, label, created_at FROM api_tokens "
                                              "WHERE hash=$1",
                                              Params().text(stored::sha256_hex(secret)))));
    if (rows.empty()) return std::optional<ApiToken>{};
    return std::optional<ApiToken>(token_of(rows, 0));
  }

  Result<std::vector<ApiToken>> list_tokens() override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("SELECT id, role, label, created_at FROM api_tokens "
                                              "ORDER BY created_at, id")));
    std::vector<ApiToken> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(token_of(rows, r));
    return out;
  }

  Result<bool> delete_token(const std::string& id) override {
    bool deleted = false;
    EXTDATA_TRY(in_transaction(
        [&](pg::Connection& c) -> Status {
          EXTDATA_ASSIGN_OR_RETURN(Rows del,
                                   c.exec("DELETE FROM api_tokens WHERE id=$1", Params().text(id)));
          deleted = del.affected() > 0;
          return ok_status();
        },
        Ending::commit, Notify::nobody));
    return deleted;
  }

  Status put_snapshot(const Snapshot& snap, const Fence& fence) override {
    return put_snapshot_pieces(
        snap, [&](const PieceSink& sink) { return sink(snap.payload); }, fence);
  }

  Result<std::optional<Snapshot>> get_snapshot(const std::string& key) override {
    std::string payload;
    EXTDATA_ASSIGN_OR_RETURN(auto snapshot, read_snapshot_pieces(key, [&](std::string_view p) {
                               payload.append(p);
                               return ok_status();
                             }));
    if (snapshot) snapshot->payload = std::move(payload);
    return snapshot;
  }

  Status put_snapshot_pieces(const Snapshot& snap,
                             const std::function<Status(const PieceSink&)>& write,
                             const Fence& fence) override {
    return in_transaction(
        [&](pg::Connection& c) -> Status {
          EXTDATA_TRY(check_fence(c, fence));
          EXTDATA_TRY(
              c.exec("INSERT INTO snapshots(key, source, fetched_at, records, cursor) "
                     "VALUES($1,$2,$3,$4,$5) "
                     "ON CONFLICT(key) DO UPDATE SET source=excluded.source, "
                     "fetched_at=excluded.fetched_at, "
                     "records=excluded.records, cursor=excluded.cursor",
                     Params()
                         .text(snap.key)
                         .text(snap.source)
                         .integer(snap.fetched_at)
                         .integer(static_cast<std::int64_t>(snap.records))
                         .text(snap.cursor)));
          EXTDATA_TRY(c.exec("DELETE FROM snapshot_pieces WHERE key=$1", Params().text(snap.key)));
          std::int64_t seq = 0;
          const size_t chunk = std::max<size_t>(1, options_.snapshot_chunk_bytes);
          const PieceSink sink = [&](std::string_view piece) -> Status {
            for (size_t offset = 0; offset < piece.size(); offset += chunk, ++seq)
              EXTDATA_TRY(c.exec("INSERT INTO snapshot_pieces(key, seq, data) VALUES($1,$2,$3)",
                                 Params().text(snap.key).integer(seq).bytes_in_place(
                                     piece.substr(offset, chunk))));
            return ok_status();
          };
          return write(sink);  // an error rolls back: the old snapshot stays whole
        },
        Ending::commit, Notify::nobody);
  }

  Result<std::optional<Snapshot>> get_snapshot_info(const std::string& key) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec("SELECT key, source, fetched_at, records, cursor FROM "
                                    "snapshots WHERE key=$1",
                                    Params().text(key))));
    if (rows.empty()) return std::optional<Snapshot>{};
    return std::optional<Snapshot>(snapshot_of(rows));
  }

  Result<std::optional<Snapshot>> read_snapshot_pieces(const std::string& key,
                                                       const PieceSink& each) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    // One transaction: the row and its pieces as one writer committed them.
    EXTDATA_TRY(track(conn->run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")));
    auto read = [&]() -> Result<std::optional<Snapshot>> {
      EXTDATA_ASSIGN_OR_RETURN(
          Rows rows, conn->exec("SELECT key, source, fetched_at, records, cursor FROM snapshots "
                                "WHERE key=$1",
                                Params().text(key)));
      if (rows.empty()) return std::optional<Snapshot>{};
      Snapshot snapshot = snapshot_of(rows);
      EXTDATA_TRY(conn->each_row("SELECT data FROM snapshot_pieces WHERE key=$1 ORDER BY seq",
                                 Params().text(key), [&](const Rows& row) -> Status {
                                   const std::string_view data = row.view(0, 0);
                                   return data.empty() ? ok_status() : each(data);
                                 }));
      return std::optional<Snapshot>(std::move(snapshot));
    };
    auto result = read();
    (void)conn->run("COMMIT");  // read only: nothing to keep
    return track(std::move(result));
  }

  // One copy out of each piece's result into `into`'s rooms (libpq's single-row mode hands every
  // piece over in a result of its own; the pieces' total comes first, from their sizes alone).
  Result<std::optional<Snapshot>> read_snapshot_into(const std::string& key,
                                                     ByteReceiver& into) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_TRY(track(conn->run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")));
    auto read = [&]() -> Result<std::optional<Snapshot>> {
      EXTDATA_ASSIGN_OR_RETURN(
          Rows rows, conn->exec("SELECT key, source, fetched_at, records, cursor, "
                                "(SELECT coalesce(sum(octet_length(data)), 0) FROM snapshot_pieces "
                                "WHERE key=$1) FROM snapshots WHERE key=$1",
                                Params().text(key)));
      if (rows.empty()) return std::optional<Snapshot>{};
      Snapshot snapshot = snapshot_of(rows);
      EXTDATA_TRY(into.begin(static_cast<std::uint64_t>(rows.integer(0, 5))));
      EXTDATA_TRY(conn->each_row(
          "SELECT data FROM snapshot_pieces WHERE key=$1 ORDER BY seq", Params().text(key),
          [&](const Rows& row) -> Status { return feed(into, row.view(0, 0)); }));
      return std::optional<Snapshot>(std::move(snapshot));
    };
    auto result = read();
    (void)conn->run("COMMIT");  // read only: nothing to keep
    return track(std::move(result));
  }

  Result<size_t> count_snapshots(const std::string& source) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows,
        track(conn->exec("SELECT count(*) FROM snapshots WHERE source=$1", Params().text(source))));
    return static_cast<size_t>(rows.integer(0, 0));
  }

  Result<size_t> trim_snapshots(const std::string& source, size_t keep) override {
    size_t deleted = 0;
    EXTDATA_TRY(in_transaction(
        [&](pg::Connection& c) -> Status {
          // Ties on fetched_at (one second) go by key, so the choice is stable.
          EXTDATA_ASSIGN_OR_RETURN(
              Rows del, c.exec("DELETE FROM snapshots WHERE key IN (SELECT key FROM snapshots "
                               "WHERE source=$1 ORDER BY fetched_at DESC, key DESC OFFSET $2)",
                               Params().text(source).integer(static_cast<std::int64_t>(keep))));
          deleted = static_cast<size_t>(del.affected());
          return ok_status();
        },
        Ending::commit, Notify::nobody));
    return deleted;
  }

  Status put_status(const SourceStatus& st, const Fence& fence) override {
    return in_transaction(
        [&](pg::Connection& c) -> Status {
          EXTDATA_TRY(check_fence(c, fence));
          EXTDATA_TRY(c.exec(
              "INSERT INTO source_status(source, last_fetch_at, last_success_at, records, "
              "last_error, "
              "last_error_hint, sync) VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(source) DO UPDATE "
              "SET "
              "last_fetch_at=excluded.last_fetch_at, last_success_at=excluded.last_success_at, "
              "records=excluded.records, last_error=excluded.last_error, "
              "last_error_hint=excluded.last_error_hint, sync=excluded.sync",
              Params()
                  .text(st.source)
                  .integer(st.last_fetch_at)
                  .integer(st.last_success_at)
                  .integer(static_cast<std::int64_t>(st.records))
                  .text(st.last_error)
                  .text(st.last_error_hint)
                  .text(stored::sync_to_json(st.sync).dump())));
          return ok_status();
        },
        Ending::commit, Notify::nobody);
  }

  Result<std::optional<SourceStatus>> get_status(const std::string& source) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows r, track(conn->exec("SELECT source, last_fetch_at, last_success_at, records, "
                                 "last_error, last_error_hint, sync FROM source_status "
                                 "WHERE source=$1",
                                 Params().text(source))));
    if (r.empty()) return std::optional<SourceStatus>{};
    return std::optional<SourceStatus>(SourceStatus{
        r.text(0, 0), r.integer(0, 1), r.integer(0, 2), static_cast<size_t>(r.integer(0, 3)),
        r.text(0, 4), r.text(0, 5), stored::sync_from_text(r.text(0, 6))});
  }

  Result<std::optional<GrantRecord>> get_grant(const std::string& source) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec("SELECT sealed, generation FROM user_grants WHERE source=$1",
                                    Params().text(source))));
    if (rows.empty()) return std::optional<GrantRecord>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(rows.text(0, 0)));
    return std::optional<GrantRecord>(GrantRecord{std::move(plain), rows.integer(0, 1)});
  }

  Result<bool> put_grant(const std::string& source, const std::string& payload,
                         std::int64_t expected_generation) override {
    const std::string sealed = box_.seal(payload);
    bool written = false;
    EXTDATA_TRY(in_transaction([&](pg::Connection& c) -> Status {
      // One statement: the generation check and the write cannot be split by another writer.
      Params params;
      params.text(source).bytes_in_place(sealed);
      if (expected_generation != 0) params.integer(expected_generation);
      EXTDATA_ASSIGN_OR_RETURN(
          Rows rows, c.exec(expected_generation == 0
                                ? "INSERT INTO user_grants(source, sealed, generation) "
                                  "VALUES($1, $2, 1) ON CONFLICT(source) DO NOTHING"
                                : "UPDATE user_grants SET sealed=$2, generation=generation+1 "
                                  "WHERE source=$1 AND generation=$3",
                            params));
      written = rows.affected() > 0;
      return ok_status();
    }));
    return written;
  }

  Status put_pending_sign_in(const std::string& state, const std::string& payload,
                             std::int64_t created_at) override {
    const std::string sealed = box_.seal(payload);
    return in_transaction(
        [&](pg::Connection& c) -> Status {
          EXTDATA_TRY(c.exec("DELETE FROM pending_sign_ins WHERE created_at < $1",
                             Params().integer(created_at - kPendingSignInSeconds)));
          EXTDATA_TRY(
              c.exec("INSERT INTO pending_sign_ins(state, sealed, created_at) VALUES($1,$2,$3)",
                     Params().text(state).bytes_in_place(sealed).integer(created_at)));
          return ok_status();
        },
        Ending::commit, Notify::nobody);
  }

  Result<std::optional<std::string>> take_pending_sign_in(const std::string& state,
                                                          std::int64_t now) override {
    std::optional<std::pair<std::string, std::int64_t>> taken;
    EXTDATA_TRY(in_transaction(
        [&](pg::Connection& c) -> Status {
          // DELETE … RETURNING: of two callbacks with one state, exactly one gets it.
          EXTDATA_ASSIGN_OR_RETURN(Rows rows, c.exec("DELETE FROM pending_sign_ins WHERE state=$1 "
                                                     "RETURNING sealed, created_at",
                                                     Params().text(state)));
          if (!rows.empty()) taken.emplace(rows.text(0, 0), rows.integer(0, 1));
          return ok_status();
        },
        Ending::commit, Notify::nobody));
    if (!taken || now - taken->second > kPendingSignInSeconds) return std::optional<std::string>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(taken->first));
    return std::optional<std::string>(std::move(plain));
  }

  Result<std::optional<Lease>> acquire_lease(const std::string& name, const std::string& holder,
                                             std::int64_t now_ms, std::int64_t ttl_ms) override {
    if (ttl_ms <= 0 || holder.empty())
      return Error("store.lease", "a lease needs a holder and a positive lifetime");
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    // One statement (INSERT … ON CONFLICT locks the row): taking a free or expired lease
    // (token + 1), renewing one's own (token kept) or leaving another holder's alone cannot
    // be split by another instance.
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec(
                       "INSERT INTO leases(name, holder, expires_at_ms, token) VALUES($1, $2, "
                       "$3::bigint + $4::bigint, 1) "
                       "ON CONFLICT(name) DO UPDATE SET holder=excluded.holder, "
                       "expires_at_ms=excluded.expires_at_ms, "
                       "token=CASE WHEN leases.holder=excluded.holder THEN leases.token "
                       "ELSE leases.token + 1 END "
                       "WHERE leases.holder=excluded.holder OR leases.expires_at_ms <= $3::bigint "
                       "RETURNING name, holder, expires_at_ms, token",
                       Params().text(name).text(holder).integer(now_ms).integer(ttl_ms))));
    if (rows.empty()) return std::optional<Lease>{};
    return std::optional<Lease>(lease_of(rows));
  }

  Result<bool> release_lease(const std::string& name, const std::string& holder) override {
    if (holder.empty()) return false;
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("UPDATE leases SET holder='', expires_at_ms=0 "
                                              "WHERE name=$1 AND holder=$2",
                                              Params().text(name).text(holder))));
    return rows.affected() > 0;
  }

  Result<std::optional<Lease>> get_lease(const std::string& name) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec("SELECT name, holder, expires_at_ms, token FROM leases "
                                    "WHERE name=$1",
                                    Params().text(name))));
    if (rows.empty()) return std::optional<Lease>{};
    return std::optional<Lease>(lease_of(rows));
  }

  Result<std::optional<SharedToken>> get_shared_token(const std::string& key,
                                                      std::int64_t now_ms) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             track(conn->exec("SELECT sealed, expires_at_ms FROM shared_tokens "
                                              "WHERE key=$1 AND expires_at_ms > $2",
                                              Params().text(key).integer(now_ms))));
    if (rows.empty()) return std::optional<SharedToken>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box_.unseal(rows.text(0, 0)));
    return std::optional<SharedToken>(SharedToken{std::move(plain), rows.integer(0, 1)});
  }

  Status put_shared_token(const std::string& key, const SharedToken& token) override {
    const std::string sealed = box_.seal(token.payload);
    return in_transaction(
        [&](pg::Connection& c) -> Status {
          EXTDATA_TRY(c.exec(
              "INSERT INTO shared_tokens(key, sealed, digest, expires_at_ms) VALUES($1,$2,$3,$4) "
              "ON CONFLICT(key) DO UPDATE SET sealed=excluded.sealed, digest=excluded.digest, "
              "expires_at_ms=excluded.expires_at_ms",
              Params()
                  .text(key)
                  .bytes_in_place(sealed)
                  .text(stored::sha256_hex(token.payload))
                  .integer(token.expires_at_ms)));
          // Tokens of credentials no longer used would otherwise stay forever.
          EXTDATA_TRY(c.exec("DELETE FROM shared_tokens WHERE expires_at_ms <= $1 AND key <> $2",
                             Params().integer(token.expires_at_ms - kSharedTokenKeepMs).text(key)));
          return ok_status();
        },
        Ending::commit, Notify::nobody);
  }

  Result<bool> drop_shared_token(const std::string& key, const std::string& payload) override {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, track(conn->exec("DELETE FROM shared_tokens WHERE key=$1 AND digest=$2",
                                    Params().text(key).text(stored::sha256_hex(payload)))));
    return rows.affected() > 0;
  }

  Result<std::int64_t> external_change_count() override { return listener_.count(); }

  StoreHealth health() override { return {pool_.up(), pool_.reconnects()}; }

 private:
  enum class Ending { commit, roll_back };
  enum class Notify { others, nobody };

  // Notes whether the server was reached, for health().
  template <typename T>
  T track(T result) {
    if (!result.ok()) {
      if (result.error().code == "store.unavailable") pool_.record(false);
    } else {
      pool_.record(true);
    }
    return result;
  }

  // `body` in one transaction, committed (with a notification to the other instances when
  // it changed what they hold in memory: configuration and grants), or rolled back (its
  // error, or a dry run).
  template <typename F>
  Status in_transaction(F&& body, Ending ending = Ending::commit, Notify notify = Notify::others) {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_TRY(track(conn->run("BEGIN")));
    Status s = body(*conn);
    if (s.ok() && ending == Ending::commit && notify == Notify::others) {
      // Delivered at COMMIT, and only if it commits.
      auto notified =
          conn->exec("SELECT pg_notify($1, $2)", Params().text(kChannel).text(instance_id_));
      if (!notified.ok()) s = std::move(notified).error();
    }
    if (s.ok() && ending == Ending::commit) s = conn->run("COMMIT");
    if (!s.ok() || ending == Ending::roll_back) {
      Status undone = conn->broken() ? ok_status() : conn->run("ROLLBACK");
      return track(s.ok() ? undone : s);  // the body's error is what matters
    }
    return track(std::move(s));
  }

  // One statement in its own transaction; no notification (not configuration).
  Status write_one(const char* sql, const Params& params) {
    EXTDATA_ASSIGN_OR_RETURN(auto conn, pool_.take());
    EXTDATA_TRY(track(conn->exec(sql, params)));
    return ok_status();
  }

  // Inside the caller's transaction: an error unless `fence` is empty or still current. The
  // row stays share-locked until the write commits, so a takeover (an UPDATE of the lease)
  // waits for it: the new holder's token is issued after this write, never during it.
  static Status check_fence(pg::Connection& c, const Fence& fence) {
    if (fence.lease.empty()) return ok_status();
    EXTDATA_ASSIGN_OR_RETURN(Rows rows, c.exec("SELECT token FROM leases WHERE name=$1 FOR SHARE",
                                               Params().text(fence.lease)));
    if (!rows.empty() && rows.integer(0, 0) == fence.token) return ok_status();
    return Error("store.fenced",
                 "the lease " + fence.lease + " was taken over by another instance (token " +
                     std::to_string(fence.token) + " is stale); this write was refused",
                 "Nothing to do: the instance that holds the lease now writes the result.");
  }

  static Status lock_config(pg::Connection& c) {
    EXTDATA_TRY(c.exec(kConfigLock));
    return ok_status();
  }

  // key, source, fetched_at, records, cursor
  static Snapshot snapshot_of(const Rows& rows) {
    Snapshot snapshot;
    snapshot.key = rows.text(0, 0);
    snapshot.source = rows.text(0, 1);
    snapshot.fetched_at = rows.integer(0, 2);
    snapshot.records = static_cast<size_t>(rows.integer(0, 3));
    snapshot.cursor = rows.text(0, 4);
    return snapshot;
  }

  static Lease lease_of(const Rows& rows) {
    return {rows.text(0, 0), rows.text(0, 1), rows.integer(0, 2), rows.integer(0, 3)};
  }

  static ApiToken token_of(const Rows& rows, int r) {
    return {rows.text(r, 0), rows.text(r, 1), rows.text(r, 2), rows.integer(r, 3)};
  }

  Result<std::string> next_version(pg::Connection& c) {
    EXTDATA_ASSIGN_OR_RETURN(Rows rows, c.exec("SELECT nextval('revision')"));
    return std::to_string(rows.integer(0, 0));
  }

  Status check_stored(pg::Connection& c, std::string_view kind, const char* sql,
                      const std::string& name, const Expect& expect) {
    if (expect.kind == Expect::Kind::any) return ok_status();
    EXTDATA_ASSIGN_OR_RETURN(Rows rows, c.exec(sql, Params().text(name)));
    return check_expected(
        kind, name, rows.empty() ? std::nullopt : std::optional(std::to_string(rows.integer(0, 0))),
        expect);
  }

  Result<std::vector<stored::SealedSecret>> secrets_of(pg::Connection& c,
                                                       const std::string& owner) {
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, c.exec("SELECT pointer, sealed FROM secrets WHERE owner=$1 ORDER BY pointer",
                          Params().text(owner)));
    std::vector<stored::SealedSecret> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back({rows.text(r, 0), rows.text(r, 1)});
    return out;
  }

  // All secrets of owners beginning with `prefix` ("source:"), by owner: one query for a list.
  Result<std::map<std::string, std::vector<stored::SealedSecret>>> secrets_by_owner(
      pg::Connection& c, const std::string& prefix) {
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, c.exec("SELECT owner, pointer, sealed FROM secrets WHERE starts_with(owner, $1) "
                          "ORDER BY owner, pointer",
                          Params().text(prefix)));
    std::map<std::string, std::vector<stored::SealedSecret>> out;
    for (int r = 0; r < rows.size(); ++r)
      out[rows.text(r, 0)].push_back({rows.text(r, 1), rows.text(r, 2)});
    return out;
  }

  Result<std::optional<Versioned<config::SourceConfig>>> read_source(pg::Connection& c,
                                                                     const std::string& name) {
    EXTDATA_ASSIGN_OR_RETURN(
        Rows rows, c.exec("SELECT spec, version FROM sources WHERE name=$1", Params().text(name)));
    if (rows.empty()) return std::optional<Versioned<config::SourceConfig>>{};
    EXTDATA_ASSIGN_OR_RETURN(auto secrets, secrets_of(c, stored::source_owner(name)));
    EXTDATA_ASSIGN_OR_RETURN(auto src, stored::decode_source(rows.text(0, 0), secrets, box_));
    return std::optional<Versioned<config::SourceConfig>>(
        Versioned<config::SourceConfig>{std::move(src), std::to_string(rows.integer(0, 1))});
  }

  Result<std::optional<Versioned<config::FieldConfig>>> read_field(pg::Connection& c,
                                                                   const std::string& name) {
    EXTDATA_ASSIGN_OR_RETURN(Rows rows, c.exec("SELECT name, source, spec, version FROM fields "
                                               "WHERE name=$1",
                                               Params().text(name)));
    if (rows.empty()) return std::optional<Versioned<config::FieldConfig>>{};
    return std::optional<Versioned<config::FieldConfig>>(Versioned<config::FieldConfig>{
        stored::decode_field(rows.text(0, 0), rows.text(0, 1), rows.text(0, 2)),
        std::to_string(rows.integer(0, 3))});
  }

  Result<std::optional<config::TargetConfig>> read_target(pg::Connection& c,
                                                          const std::string& name) {
    EXTDATA_ASSIGN_OR_RETURN(Rows rows,
                             c.exec("SELECT spec FROM targets WHERE name=$1", Params().text(name)));
    if (rows.empty()) return std::optional<config::TargetConfig>{};
    EXTDATA_ASSIGN_OR_RETURN(auto secrets, secrets_of(c, stored::target_owner(name)));
    EXTDATA_ASSIGN_OR_RETURN(auto target, stored::decode_target(rows.text(0, 0), secrets, box_));
    return std::optional<config::TargetConfig>(std::move(target));
  }

  // Compares with what is stored (secrets by their plain values), then writes if different.
  Result<Written> write_source(pg::Connection& c, const config::SourceConfig& source,
                               const Expect& expect) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, read_source(c, source.name));
    EXTDATA_TRY(check_expected("source", source.name,
                               current ? std::optional(current->version) : std::nullopt, expect));
    Written written = stored::plan_source_write(current, source);
    if (written.change == Change::unchanged) return written;
    EXTDATA_ASSIGN_OR_RETURN(written.version, next_version(c));
    EXTDATA_TRY(
        c.exec("INSERT INTO sources(name, type, spec, updated_at, version) VALUES($1,$2,$3,$4,$5) "
               "ON CONFLICT(name) DO UPDATE SET type=excluded.type, spec=excluded.spec, "
               "updated_at=excluded.updated_at, version=excluded.version",
               Params()
                   .text(source.name)
                   .text(source.type)
                   .text(stored::encode_source(source))
                   .integer(stored::unix_now())
                   .text(written.version)));
    EXTDATA_TRY(
        seal_secrets(c, stored::source_owner(source.name), source.spec, source.secret_pointers));
    return written;
  }

  Result<Written> write_field(pg::Connection& c, const config::FieldConfig& field,
                              const Expect& expect) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, read_field(c, field.name));
    EXTDATA_TRY(check_expected("field", field.name,
                               current ? std::optional(current->version) : std::nullopt, expect));
    Written written = stored::plan_field_write(current, field);
    if (written.change == Change::unchanged) return written;
    EXTDATA_ASSIGN_OR_RETURN(written.version, next_version(c));
    EXTDATA_TRY(
        c.exec("INSERT INTO fields(name, source, spec, updated_at, version) VALUES($1,$2,$3,$4,$5) "
               "ON CONFLICT(name) DO UPDATE SET source=excluded.source, spec=excluded.spec, "
               "updated_at=excluded.updated_at, version=excluded.version",
               Params()
                   .text(field.name)
                   .text(field.source)
                   .text(field.spec.dump())
                   .integer(stored::unix_now())
                   .text(written.version)));
    return written;
  }

  Result<Written> write_target(pg::Connection& c, const config::TargetConfig& target) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, read_target(c, target.name));
    Written written = stored::plan_target_write(current, target);
    if (written.change == Change::unchanged) return written;
    EXTDATA_TRY(
        c.exec("INSERT INTO targets(name, type, spec, updated_at) VALUES($1,$2,$3,$4) "
               "ON CONFLICT(name) DO UPDATE SET type=excluded.type, spec=excluded.spec, "
               "updated_at=excluded.updated_at",
               Params()
                   .text(target.name)
                   .text(target.type)
                   .text(stored::encode_target(target))
                   .integer(stored::unix_now())));
    EXTDATA_TRY(
        seal_secrets(c, stored::target_owner(target.name), target.spec, target.secret_pointers));
    return written;
  }

  Status seal_secrets(pg::Connection& c, const std::string& owner, const json& spec,
                      const std::set<std::string>& pointers) {
    EXTDATA_TRY(c.exec("DELETE FROM secrets WHERE owner=$1", Params().text(owner)));
    for (const auto& secret : stored::seal_secrets(spec, pointers, box_))
      EXTDATA_TRY(c.exec("INSERT INTO secrets(owner, pointer, sealed) VALUES($1,$2,$3)",
                         Params().text(owner).text(secret.pointer).bytes_in_place(secret.sealed)));
    return ok_status();
  }

  // put_shared_token deletes other keys' tokens that expired this long before the new one
  // expires (as the SQLite store does: a day past their expiry).
  static constexpr std::int64_t kSharedTokenKeepMs = 25LL * 3600 * 1000;

  pg::Pool pool_;
  SecretBox box_;
  PostgresOptions options_;
  const std::string instance_id_;
  Listener listener_;
};

// The master key of a PostgreSQL store: the operator's (EXTDATA_MASTER_KEY, _FILE, systemd
// credential), else `key_file` when given and present. Never made up here: a new key would
// not open the secrets other instances stored.
Result<SecretBox> master_key(const std::string& key_file) {
  std::error_code ec;
  if (SecretBox::key_outside_data_dir() ||
      (!key_file.empty() && std::filesystem::exists(key_file, ec)))
    return SecretBox::open(key_file);
  return Error("store.master_key_missing",
               "a PostgreSQL store needs the master key from the operator, and none is given",
               "Set EXTDATA_MASTER_KEY_FILE to a 0600 file with the key (64 hex characters; make "
               "one with: openssl rand -hex 32), the same file on every instance; or "
               "LoadCredential=master.key:PATH in the systemd unit.");
}

}  // namespace

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                   const PostgresOptions& options) {
  EXTDATA_ASSIGN_OR_RETURN(pg::Target target, pg::parse_target(url));
  EXTDATA_ASSIGN_OR_RETURN(SecretBox box, master_key(options.key_file));
  auto store = std::make_unique<PostgresStore>(std::move(target), std::move(box), options);
  EXTDATA_TRY(store->open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace extdata::store
