#pragma once
// The Store seam: configuration (sources, fields), API tokens, record snapshots
// and per-source status. SQLite implements it (sqlite/), PostgreSQL too (postgres/);
// open_store.h chooses.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/diff.h"
#include "core/byte_receiver.h"
#include "core/error.h"

namespace extdata::store {

struct ApiToken {
  std::string id;    // public identifier shown in lists
  std::string role;  // admin | reader
  std::string label;
  std::int64_t created_at = 0;  // unix seconds
};

struct Snapshot {
  std::string key;  // source + resolved variables
  std::string source;
  std::string payload;          // serialized record set
  std::int64_t fetched_at = 0;  // unix seconds
  std::size_t records = 0;
  // Where an incremental sync continues (sources::SyncReport::cursor, e.g. Graph's delta
  // link), kept with the records it describes so that a restart continues incrementally.
  std::string cursor;
};

// How a source syncs and what its last full and last incremental syncs did (`source test`,
// `source status`, the sources page).
struct SyncStatus {
  std::string mode;               // "delta" | "full"; empty before the first sync
  std::int64_t last_full_at = 0;  // unix seconds, 0 = never
  std::size_t last_full_records = 0;
  std::int64_t last_incremental_at = 0;
  std::size_t last_added = 0, last_updated = 0, last_removed = 0;  // of the last incremental
  std::string note;  // why the last sync was full although delta is configured
};

struct SourceStatus {
  std::string source;
  std::int64_t last_fetch_at = 0;
  std::int64_t last_success_at = 0;
  std::size_t records = 0;
  std::string last_error;  // plain words; empty when the last fetch worked
  std::string last_error_hint;
  SyncStatus sync;
};

// Every stored source and field has a version: an opaque string that changes with each write
// that changes the item and never repeats in the store (a store-wide counter), so it names one
// version even across a delete and a re-create. The API shows it as the item's ETag.
template <typename T>
struct Versioned {
  T value;
  std::string version;
};

// What a write or delete requires of the stored item: HTTP's If-None-Match: * (absent) and
// If-Match (present, or one of some versions). `any` is an upsert (config as code).
struct Expect {
  enum class Kind { any, absent, present, one_of };
  Kind kind = Kind::any;
  std::vector<std::string> versions;  // for one_of

  static Expect absent() { return {Kind::absent, {}}; }
  static Expect one_of(std::vector<std::string> versions) {
    return {Kind::one_of, std::move(versions)};
  }
  // `current`: the stored version, nullopt when there is no such item.
  bool allows(const std::optional<std::string>& current) const;
};

// The error of a write whose expectation the stored item does not meet: store.exists (it
// exists, absent was expected) or store.version_mismatch (changed or deleted since the version
// named), with details["current_version"] when the item exists. `kind`: "source" | "field".
Status check_expected(std::string_view kind, const std::string& name,
                      const std::optional<std::string>& current, const Expect& expect);

enum class Change { created, updated, unchanged };
std::string_view change_name(Change change);  // "created" | "updated" | "unchanged"

// What a write did. An item written as it is stored already is left alone: `unchanged`, and
// its version stays.
struct Written {
  Change change = Change::created;
  std::string version;                  // the version stored now
  std::vector<config::KeyChange> keys;  // for `updated`: what changed (secrets: only that)
};

struct AppliedItem {
  std::string kind;  // "source" | "field"
  std::string name;
  Written written;
};

struct ApplyOptions {
  // Everything is checked and compared as for a real apply, then rolled back: nothing is
  // written, the versions returned are not stored.
  bool dry_run = false;
};

// A user grant (auth/oauth2/grant_store.h) as the store keeps it: an opaque payload, sealed
// at rest, and a generation the store bumps with every write.
struct GrantRecord {
  std::string payload;
  std::int64_t generation = 0;
};

// A lease: one holder at a time does a job for every instance on the store (one upstream sync
// per snapshot key, "sync:<snapshot key>"; one token request per credential,
// "token:<token cache key>"). Times are unix milliseconds passed in by the caller (its Clock):
// the store never reads a clock for leases, so tests need no sleeps, and instances must keep
// their clocks in step (NTP) to within a small part of a lease's lifetime.
struct Lease {
  std::string name;
  std::string holder;              // who holds it: an id unique per process (host, pid, random)
  std::int64_t expires_at_ms = 0;  // the holder owns it while now < expires_at_ms
  // The fencing token: 1 for the first acquisition of `name`, then one more with every new
  // acquisition (never with a renewal). Never reused for a name, even after a release.
  std::int64_t token = 0;
};

// Names the lease a write is made under (the `fence` of put_snapshot, put_snapshot_pieces and
// put_status). Empty `lease`: an unfenced write (a single instance, the CLI).
struct Fence {
  std::string lease;
  std::int64_t token = 0;
};

// An access token in the shared token cache: the auth layer's own serialisation of it.
struct SharedToken {
  std::string payload;  // sealed with the master key at rest: tokens are secrets
  std::int64_t expires_at_ms = 0;
};

// Whether the store's server is reachable (always for SQLite), for /healthz and metrics.
struct StoreHealth {
  bool up = true;
  std::int64_t reconnects = 0;  // connections opened again after one was lost
};

// A sign-in begun (Connect) waits this long for its callback.
inline constexpr std::int64_t kPendingSignInSeconds = 15 * 60;

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::vector<config::SourceConfig>> list_sources() = 0;
  virtual Result<std::optional<config::SourceConfig>> get_source(const std::string& name) = 0;
  // The source and its version, read together (a body and its ETag).
  virtual Result<std::optional<Versioned<config::SourceConfig>>> get_source_versioned(
      const std::string& name) = 0;
  // The check of `expect` and the write are one transaction: of two writers expecting the same
  // version, one wins and the other gets store.version_mismatch.
  virtual Result<Written> put_source(const config::SourceConfig& source,
                                     const Expect& expect = {}) = 0;
  // Fails with store.in_use when fields still use the source. False when there is none (and
  // `expect` allows that).
  virtual Result<bool> delete_source(const std::string& name, const Expect& expect = {}) = 0;

  virtual Result<std::vector<config::FieldConfig>> list_fields() = 0;
  virtual Result<std::optional<config::FieldConfig>> get_field(const std::string& name) = 0;
  virtual Result<std::optional<Versioned<config::FieldConfig>>> get_field_versioned(
      const std::string& name) = 0;
  virtual Result<Written> put_field(const config::FieldConfig& field,
                                    const Expect& expect = {}) = 0;
  virtual Result<bool> delete_field(const std::string& name, const Expect& expect = {}) = 0;

  // Creates or updates everything in one transaction: all or nothing. Says per item (sources
  // first, in file order, then fields, then targets) whether it was created, updated or
  // unchanged.
  virtual Result<std::vector<AppliedItem>> apply(const config::ConfigFile& file,
                                                 const ApplyOptions& options = {}) = 0;

  // Targets (`targets:` of a config document, written by apply; secrets sealed like a
  // source's), by name, secrets unsealed.
  virtual Result<std::vector<config::TargetConfig>> list_targets() = 0;
  virtual Result<std::optional<config::TargetConfig>> get_target(const std::string& name) = 0;
  // What a target's last sync left (src/targets/: the mapping of extdata values to upstream
  // ids, the counts, the error) as the target's own JSON text; empty when it never ran.
  virtual Result<std::string> get_target_state(const std::string& name) = 0;
  virtual Status put_target_state(const std::string& name, const std::string& state) = 0;

  // API tokens are stored as SHA-256 hashes; the secret is returned once.
  virtual Result<std::string> create_token(const std::string& role, const std::string& label,
                                           std::int64_t now) = 0;
  virtual Result<std::optional<ApiToken>> find_token(const std::string& secret) = 0;
  virtual Result<std::vector<ApiToken>> list_tokens() = 0;
  virtual Result<bool> delete_token(const std::string& id) = 0;

  // With a `fence` naming a lease, the write is made only when that lease's token is still
  // fence.token (no newer acquisition happened since: the lease may have expired meanwhile as
  // long as nobody else took it). Otherwise nothing is written and the error is store.fenced
  // (conflict). The check and the write are one transaction, so a writer whose lease was taken
  // over can never overwrite the newer holder's snapshot. A fence naming a lease that does not
  // exist is stale.
  virtual Status put_snapshot(const Snapshot& snapshot, const Fence& fence = {}) = 0;
  virtual Result<std::optional<Snapshot>> get_snapshot(const std::string& key) = 0;
  // Snapshots in pieces (a binary record set, extract/record_set_binary.h), so that the whole
  // payload is never in memory at once. `write` is called once with a sink that stores each
  // piece as it comes; `snapshot.payload` is not used. One transaction: a failed write (the
  // sink's or `write`'s error) leaves the previous snapshot whole.
  using PieceSink = std::function<Status(std::string_view piece)>;
  // `fence` as for put_snapshot, checked in the same transaction before `write` is called.
  virtual Status put_snapshot_pieces(const Snapshot& snapshot,
                                     const std::function<Status(const PieceSink&)>& write,
                                     const Fence& fence = {}) = 0;
  // The snapshot's other members (payload empty), with `each` called on its stored bytes in
  // order, piece by piece as stored (get_snapshot's payload is their concatenation); `each`'s
  // error stops the read and is returned. nullopt when there is no such snapshot.
  virtual Result<std::optional<Snapshot>> read_snapshot_pieces(const std::string& key,
                                                               const PieceSink& each) = 0;
  // The same bytes copied once, straight into place: `into` is told their total size, then says
  // where the next bytes go and the store copies them there (SQLite: incremental blob I/O from
  // its pages; PostgreSQL: out of each piece's result). `into`'s error stops the read and is
  // returned. The row and its bytes are read in one transaction. nullopt when there is no such
  // snapshot (`into` is then not called).
  virtual Result<std::optional<Snapshot>> read_snapshot_into(const std::string& key,
                                                             ByteReceiver& into) = 0;
  // The snapshot's members without its payload (empty), read without reading the payload:
  // whether another instance stored a newer one (fetched_at). nullopt when there is none.
  virtual Result<std::optional<Snapshot>> get_snapshot_info(const std::string& key) = 0;
  // The number of snapshots stored for `source`.
  virtual Result<size_t> count_snapshots(const std::string& source) = 0;
  // Deletes the oldest snapshots of `source` (by fetched_at) beyond the newest `keep`;
  // returns how many were deleted.
  virtual Result<size_t> trim_snapshots(const std::string& source, size_t keep) = 0;

  // `fence` as for put_snapshot.
  virtual Status put_status(const SourceStatus& status, const Fence& fence = {}) = 0;
  virtual Result<std::optional<SourceStatus>> get_status(const std::string& source) = 0;

  // User grants, one per source; deleted with the source.
  virtual Result<std::optional<GrantRecord>> get_grant(const std::string& source) = 0;
  // Writes when the stored generation is `expected_generation` (0: none stored yet), in one
  // statement; false when another writer came first.
  virtual Result<bool> put_grant(const std::string& source, const std::string& payload,
                                 std::int64_t expected_generation) = 0;

  // Sign-ins begun and not called back yet, by their OAuth2 state (payload sealed). take
  // returns one at most once, and nothing older than kPendingSignInSeconds.
  virtual Status put_pending_sign_in(const std::string& state, const std::string& payload,
                                     std::int64_t created_at) = 0;
  virtual Result<std::optional<std::string>> take_pending_sign_in(const std::string& state,
                                                                  std::int64_t now) = 0;

  // Leases (see Lease). acquire_lease, in one atomic step (ttl_ms > 0):
  //  - no lease `name` stored, or the stored one expired (expires_at_ms <= now_ms) or was
  //    released, and its holder is not `holder`: `holder` takes it, expiring at now_ms + ttl_ms,
  //    with token = the previous token + 1 (1 for a new name);
  //  - the stored holder is `holder` (expired or not, as long as nobody else took it since): a
  //    renewal, expires_at_ms = now_ms + ttl_ms and the token unchanged, so the holder's fence
  //    stays valid;
  //  - another holder's unexpired lease: nullopt, nothing changes.
  // Of concurrent callers (threads, processes, instances), at most one gets a given token.
  virtual Result<std::optional<Lease>> acquire_lease(const std::string& name,
                                                     const std::string& holder, std::int64_t now_ms,
                                                     std::int64_t ttl_ms) = 0;
  // Ends `holder`'s lease early so the next acquire need not wait for its expiry: the holder
  // becomes empty and expires_at_ms 0; the token is kept (the next acquisition takes token+1).
  // False (nothing changed) when `holder` does not hold it.
  virtual Result<bool> release_lease(const std::string& name, const std::string& holder) = 0;
  // The stored lease as it is, expired or released (holder empty) included; nullopt when
  // `name` was never acquired.
  virtual Result<std::optional<Lease>> get_lease(const std::string& name) = 0;

  // The shared token cache, by the token cache's key (auth/oauth2/token_cache.h: token URL,
  // client, scopes and a hash of the credential, no secret in it). get returns the token only
  // while now_ms < expires_at_ms: an expired token is never returned. put stores (replaces)
  // the token for `key`, sealed with the master key; it may delete expired entries of any key.
  // drop deletes the entry for `key` only when its payload is `payload` (a resource refused
  // that token; a newer one, put meanwhile by another instance, is kept); false when it was
  // not.
  virtual Result<std::optional<SharedToken>> get_shared_token(const std::string& key,
                                                              std::int64_t now_ms) = 0;
  virtual Status put_shared_token(const std::string& key, const SharedToken& token) = 0;
  virtual Result<bool> drop_shared_token(const std::string& key, const std::string& payload) = 0;

  // Changes whenever another process (another connection) committed to the store, e.g.
  // `extdata apply` while `extdata serve` runs; writes through this Store do not change it.
  // Lets a server keep built sources and fields in memory and re-read only after a change.
  virtual Result<std::int64_t> external_change_count() = 0;

  // A shared store (PostgreSQL) may be away while the server serves from memory.
  virtual StoreHealth health() { return {}; }
};

// Opens (creating when needed) the embedded store in `data_dir`: extdata.db (WAL) and,
// unless EXTDATA_MASTER_KEY is set, master.key (0600).
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir);

struct SqliteOptions {
  // Snapshots are stored in pieces of this size: SQLite caps one value at 1 GB.
  size_t snapshot_chunk_bytes = 256u << 20;
};
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir,
                                                 const SqliteOptions& options);

// The data directory: --data, else $EXTDATA_DATA, else ./extdata-data.
std::string resolve_data_dir(const std::string& flag_value);

}  // namespace extdata::store
