#pragma once
// RecordCache: one record set per source and resolved variables, shared by every field and
// request that asks for the same data.
//
//   RecordCache cache(store, lookup, clock, metrics);          // background work on its own thread
//   auto got = cache.get("customers", {{"country", "DE"}});
//   got->records  // shared_ptr<const RecordSet>; got->stale, got->age_seconds, got->error
//
// Semantics (docs/fields.md, "Caching"):
//  - fresh hit (age < TTL): returned at once.
//  - expired hit: the old records are returned at once with stale = true, and ONE background
//    refresh is queued on the executor (stale-while-revalidate).
//  - miss: the last snapshot in the store is loaded (lazily, so a restart serves the last good
//    data without asking the upstream); without one the source is fetched synchronously, and
//    concurrent callers of the same key wait for that one fetch (single-flight).
//  - a failed fetch keeps the old records (memory or store snapshot) and serves them stale
//    with the error attached (stale-if-error); with nothing to serve the Error is returned.
//    After a failure the key is not retried before `error_backoff` (at most the TTL) passes.
//  - a successful fetch is written to the store as a snapshot (RecordSet::to_json) when the key
//    is worth keeping: served more than once, the source's variable-free key, or declared
//    `snapshot: true` by the source or the asking field. A key reaching its second answer is
//    written then (in the background). Beyond limits().snapshot_max_per_source snapshots of a
//    source, the oldest are deleted. The source status (last fetch, records, last error + hint)
//    is recorded for every fetch.
//
// Bounds (core/limits.h; anonymous callers choose the keys, so nothing may grow without limit):
//  - LRU: beyond cache_max_entries / cache_max_mb overall, or cache_source_max_entries /
//    cache_source_max_mb for one source, the least recently used record sets are evicted
//    (extdata_cache_evictions_total). An entry somebody holds (a fetch, its single-flight
//    waiters, a queued refresh or snapshot write) is never evicted; records already handed
//    out stay alive through their shared_ptr.
//  - New keys: fetching a key with nothing in memory or in the store takes a token from the
//    source's bucket (new_keys_per_minute, refilled continuously on the injected clock); an
//    empty bucket fails the request with "cache.rate_limited" (429, details.retry_after).
//    Refreshes of cached keys are not limited (the LRU bounds how many there are).
//
// Snapshot keys include a fingerprint of the source's configuration, so data fetched under an
// old configuration (another URL, list or filter) is never served after the source changes.
//
// Incremental sync: every fetch passes the entry's records and cursor (sources::SyncBase) to
// the source; a source that syncs incrementally (sharepoint-list with `sync: delta`) applies
// only the upstream's changes to them and returns the next cursor, which is kept with the
// entry and written with its snapshot, so a restart continues incrementally. While a refresh
// runs, the old records are served (a full resync after a 410 included).
//
// Derived data (option tables, search indexes) hangs off the record set it was built from
// (CachedRecords::derived) and disappears with it when the records are replaced. After an
// incremental sync that says which records changed (SyncReport::changes) the new derived data
// keeps the old one as its previous generation (DerivedData::previous) until each object is
// patched or built anew, or the next sync replaces it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "extract/record_changes.h"
#include "extract/record_set.h"
#include "sources/source.h"
#include "store/store.h"

namespace extdata::cache {

// name → the configured source, or nullptr when no source has that name.
using SourceLookup = std::function<std::shared_ptr<sources::Source>(const std::string&)>;
// Runs background work (refreshes). Tests pass a queue they drain by hand.
using Executor = std::function<void(std::function<void()>)>;

// Objects built once per record set and shared by all requests (e.g. a field's option table).
class DerivedData {
 public:
  // The object stored under `tag`, built by `build` on first use; concurrent callers of the
  // same tag wait for the one build. A failed build is not stored (the next caller retries).
  Result<std::shared_ptr<const void>> get_or_build(
      const std::string& tag, const std::function<Result<std::shared_ptr<const void>>()>& build);
  // The object under `tag` when it is built already; null when it is not, or is being built.
  std::shared_ptr<const void> find(const std::string& tag);
  // Drops the objects whose tag starts with `prefix` (here and among the previous records').
  void erase_prefix(const std::string& prefix);

  // Incremental syncs: these records were made from `records` by `changes`, and `derived` holds
  // what was built from those, so a builder may patch the old object instead of building anew
  // (docs/fields.md, "Refresh"). Only one generation is kept: `derived` forgets its own.
  void set_previous(std::shared_ptr<DerivedData> derived,
                    std::shared_ptr<const extract::RecordSet> records,
                    std::shared_ptr<const extract::RecordChanges> changes);
  struct Previous {
    std::shared_ptr<const void> value;  // built under the same tag for the previous records
    std::shared_ptr<const extract::RecordSet> records;
    std::shared_ptr<const extract::RecordChanges> changes;
  };
  // The previous records' object under `tag`, when one was built; nullopt otherwise.
  std::optional<Previous> previous(const std::string& tag);
  // Lets go of the previous records' object under `tag` (patched, or built anew); the previous
  // records themselves are let go once none of their objects is left.
  void release_previous(const std::string& tag);

 private:
  struct Slot {
    std::mutex build_mu;
    std::shared_ptr<const void> value;
  };
  void erase(const std::string& tag);
  bool empty();
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>, std::less<>> slots_;
  std::shared_ptr<DerivedData> previous_;  // guarded by mu_, like the two below
  std::shared_ptr<const extract::RecordSet> previous_records_;
  std::shared_ptr<const extract::RecordChanges> changes_;
};

struct CachedRecords {
  std::shared_ptr<const extract::RecordSet> records;
  std::shared_ptr<DerivedData> derived;  // bound to `records`
  Clock::time_point fetched_at;
  bool stale = false;  // older than the TTL, or the last refresh failed
  double age_seconds = 0;
  std::optional<Error> error;  // why the data could not be refreshed, when it could not
  std::string key;
  // What load_derived/save_derived key persisted derived data by (copied under the entry's
  // lock together with `records`, so they describe exactly these records).
  std::string source;
  std::string cursor;       // the sync cursor the records were fetched up to
  size_t record_count = 0;  // records->size(), or the stored snapshot's count (stored_stamp)
  bool kept = false;        // the key is worth a snapshot (its derived data is worth storing too)
};

struct RefreshReport {
  size_t keys = 0;            // record sets refetched
  size_t records = 0;         // records fetched, summed over the keys
  std::vector<Error> errors;  // one per failed key
};

// Several `extdata serve` instances on one store (docs/scaling.md). A kept key (one worth a
// snapshot, see above) is fetched under the store lease "sync:<snapshot key>": the instance
// that takes it fetches and writes the snapshot under its fencing token (renewing the lease
// every lease_ttl/3 while the fetch runs); the others wait, polling every `poll`, and then
// load that snapshot instead of fetching. A snapshot satisfies a refresh when it was fetched
// after the refresh was asked for (refresh(): a sync overlapping the call), or when it is
// newer than the records in memory and younger than the TTL (a background refresh, a miss)
// or than the refresh interval (scheduled refresh): one upstream sync per key per refresh
// across instances. A killed holder blocks the others for at most lease_ttl. Without the
// store (a lease error) an instance fetches on its own. Keys not kept are fetched per
// instance, as before. Counters: extdata_cluster_lease_acquired_total,
// extdata_cluster_lease_waits_total, extdata_cluster_fenced_writes_total,
// extdata_cache_snapshots_loaded_from_store_total{reason="peer_sync"|"first_use"}.
struct ClusterOptions {
  std::string holder;  // this instance's lease holder id; empty: no coordination
  std::chrono::milliseconds lease_ttl{30000};
  std::chrono::milliseconds poll{100};
};

struct CacheOptions {
  // Background refreshes; when empty, the cache runs them on one worker thread of its own.
  Executor executor;
  // Pause after a failed fetch before the key is fetched again (capped at the TTL).
  std::chrono::seconds error_backoff{30};
  // The names of all sources, for scheduled refresh; default: the store's sources.
  std::function<std::vector<std::string>()> list_sources;
  // Called at the end of each refresh() (on demand or scheduled) that refetched at least one
  // key without error, on the refreshing thread: targets push the new options (issue 20).
  std::function<void(const std::string& source)> after_refresh;
  ClusterOptions cluster;
};

class RecordCache {
 public:
  RecordCache(store::Store& store, SourceLookup lookup, Clock& clock, Metrics& metrics,
              CacheOptions options = {});
  ~RecordCache();
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  // The records of `source` for `variables`. `ttl_override` (seconds) replaces the source's
  // cache_ttl (a field's own cache_ttl). Errors: "source.not_found", or the fetch's Error when
  // nothing is cached.
  // `keep_snapshot`: the asking field declares `snapshot: true`. Error "cache.rate_limited" when
  // the key must be fetched and the source's budget of new keys is spent.
  Result<CachedRecords> get(const std::string& source, const sources::Variables& variables,
                            std::optional<double> ttl_override = std::nullopt,
                            bool keep_snapshot = false);
  // get() when it would not wait: the records already in memory (fresh, or stale with the
  // background refresh started). nullopt when get() would load a snapshot, fetch or wait.
  // Never creates an entry.
  std::optional<CachedRecords> peek(const std::string& source, const sources::Variables& variables,
                                    std::optional<double> ttl_override = std::nullopt,
                                    bool keep_snapshot = false);

  // Record sets in memory and their RecordSet::memory_bytes, over all sources.
  size_t entries() const;
  size_t bytes() const;

  // Refetches, now and synchronously, every cached key of `source` (the variable-free key when
  // none is cached). Error "source.not_found" for an unknown source; fetch failures are listed
  // in the report and keep the old data.
  // `notify`: call CacheOptions::after_refresh (false for a target's own refetch before it
  // syncs, which would otherwise sync it again).
  Result<RefreshReport> refresh(const std::string& source, bool notify = true);

  // Scheduled refresh: queues a background refresh of every source whose `refresh` interval
  // has elapsed since its last scheduled refresh. The server calls it from a timer. A source
  // whose cached records nobody read since their fetch is refreshed only once they are older
  // than their TTL; one waiting out a failure (a throttled upstream's Retry-After stretches
  // the wait beyond error_backoff) is not refreshed before the wait ends. Put-off refreshes
  // count in extdata_cache_refreshes_deferred_total{reason="idle"|"backoff"}.
  void tick(Clock::time_point now);

  // Forgets the records of `source` held in memory (its configuration changed), and the
  // derived data stored for it (save_derived).
  void invalidate(const std::string& source);
  // Drops derived objects whose tag starts with `prefix` from every cached record set.
  void drop_derived(const std::string& prefix);

  // Derived data stored beside a key's snapshot (docs/fields.md, "Restart"): the bytes saved
  // under `name` for the records `cached` holds are handed to `into` (the store copies them
  // straight into the places `into` names, core/byte_receiver.h), so a restart need not rebuild
  // them. Only bytes saved for the same records (fetch time, sync cursor and record count, under
  // the same source configuration) and the same `version` (what else they were built from, e.g.
  // a field definition's hash) are handed over. True when they were (whether `into` accepted
  // them — its own checks, its own errors — is for `into` to say); false when none are stored
  // for these records, or the store fails (logged): then nothing `into` received may be used.
  bool load_derived(const CachedRecords& cached, const std::string& name,
                    const std::string& version, ByteReceiver& into);
  // Queues on the executor a write of derived data built from `cached`'s records, for keys
  // worth a snapshot (CachedRecords::kept); `write` is called with a sink for the bytes, in the
  // background (it must keep what it writes alive). One row per key and name: a newer save
  // replaces it. Counter: extdata_cache_derived_saved_total{source}.
  void save_derived(const CachedRecords& cached, const std::string& name,
                    const std::string& version,
                    std::function<Status(const store::Store::PieceSink&)> write);

  // Answers before the records are loaded (docs/fields.md, "Restart"): derived data stored for
  // a key's snapshot can answer while the snapshot itself loads in the background.
  // Whether the key's records are in memory now; never waits (false while they load).
  bool in_memory(const std::string& source, const sources::Variables& variables);
  // The key's stored snapshot as get() would describe it — fetch time, cursor, record count,
  // age and staleness — with `records` and `derived` null, read without loading the records;
  // nullopt when nothing is stored (or the store fails).
  std::optional<CachedRecords> stored_stamp(const std::string& source,
                                            const sources::Variables& variables,
                                            std::optional<double> ttl_override = std::nullopt);
  // Brings `cached`'s age and staleness up to now.
  void age(CachedRecords& cached, std::optional<double> ttl_override = std::nullopt);
  // age() for an answer from derived data of a stored snapshot (stored_stamp) whose records
  // are not in memory. When loading them failed (the snapshot was refused and the fetch
  // failed) the answer carries that error and is stale, as stale-if-error answers are; once the
  // failure's backoff has passed, such an answer queues one more load in the background (as a
  // stale answer queues a refresh). Never waits for a load that is running.
  void age_stored(CachedRecords& cached, std::optional<double> ttl_override, bool keep_snapshot);
  // get() on the executor: loads the key's snapshot (or fetches) without a caller waiting.
  void load_in_background(const std::string& source, const sources::Variables& variables,
                          std::optional<double> ttl_override, bool keep_snapshot);

  // "source?k=v&k2=v2" with sorted, percent-encoded variables.
  static std::string key_for(const std::string& source, const sources::Variables& variables);

 private:
  struct Entry;
  struct Usage {
    size_t entries = 0;
    size_t bytes = 0;
  };
  struct Bucket {
    Clock::time_point full_at{};  // see take_new_key_token
  };
  std::shared_ptr<Entry> entry_for(const std::string& source, const sources::Variables& variables);
  std::shared_ptr<Entry> find_entry(const std::string& key);
  // With mu_ held: LRU bookkeeping.
  void touch(Entry& entry);
  void evict_over_bounds(const Entry* spare);
  bool over_bounds(const Usage& usage, bool total) const;
  void remove_entry(Entry& entry);
  // Charges the entry's current size to the totals and evicts beyond the bounds.
  void account(const std::shared_ptr<Entry>& entry);
  // Drops an entry that never got records and nobody else holds (a refused request).
  void forget_if_empty(const std::shared_ptr<Entry>& entry);
  // nullopt when a new key of `source` may be fetched now, else the seconds until it may.
  std::optional<long long> take_new_key_token(const std::string& source);
  // Snapshots: the entry's records are written when the key is worth keeping.
  void note_served(const std::shared_ptr<Entry>& entry,
                   const std::shared_ptr<sources::Source>& src);
  bool write_snapshot(const Entry& entry, const sources::Source& src,
                      const extract::RecordSet& records, const std::string& cursor,
                      Clock::time_point fetched_at, const store::Fence& fence = {});
  CachedRecords answer(const Entry& entry, double ttl, Clock::time_point now) const;
  CachedRecords serve_in_memory(const std::shared_ptr<Entry>& entry,
                                const std::shared_ptr<sources::Source>& src, double ttl,
                                Clock::time_point now);
  // What satisfies a fetch besides fetching: a snapshot another instance fetched at or after
  // `fresh_since` and newer than the records in memory; nullopt (refresh()): only a snapshot
  // of a sync that overlapped the call.
  struct Want {
    std::optional<Clock::time_point> fresh_since;
  };
  // Fetches the entry's key (the caller holds no lock); single-flight through Entry::loading,
  // and across instances through the store's lease (ClusterOptions).
  void fetch_into(const std::shared_ptr<Entry>& entry, const std::shared_ptr<sources::Source>& src,
                  double ttl, const Want& want);
  void fetch_coordinated(const std::shared_ptr<Entry>& entry,
                         const std::shared_ptr<sources::Source>& src, double ttl, const Want& want);
  void fetch_upstream(const std::shared_ptr<Entry>& entry,
                      const std::shared_ptr<sources::Source>& src, double ttl,
                      const store::Fence& fence);
  // Replaces the entry's records by the stored snapshot when it was fetched at or after
  // `since` and is newer than the records; false (nothing changed) otherwise.
  bool load_newer(const std::shared_ptr<Entry>& entry, const sources::Source& src,
                  Clock::time_point since);
  struct Stored;
  // The stored snapshot of the entry's key, nullopt when there is none or it cannot be served
  // (`problem` then says why, for the status).
  std::optional<Stored> read_stored(const std::string& entry_key, const std::string& source,
                                    const sources::Source& src, std::string& problem);
  void load_snapshot(Entry& entry, const sources::Source& src);
  Result<RefreshReport> refresh_keys(const std::string& source, bool notify, const Want& want);
  bool refresh_due(const std::string& source, const sources::Source& src, Clock::time_point now);
  void schedule_refresh(const std::shared_ptr<Entry>& entry,
                        const std::shared_ptr<sources::Source>& src, double ttl);
  void record_status(const std::string& source, size_t records, const Error* error,
                     const sources::SyncReport* sync = nullptr, const store::Fence& fence = {});
  void count_fenced(const Status& refused);
  double ttl_of(const sources::Source& src, std::optional<double> override) const;
  std::string store_key(const sources::Source& src, const std::string& key) const;
  // The store row of derived data `name` of a key, and what it must have been saved with.
  struct DerivedRow {
    store::Snapshot stamp;  // key, source, fetched_at, records, cursor (version + sync cursor)
  };
  std::optional<DerivedRow> derived_row(const CachedRecords& cached, const std::string& name,
                                        const std::string& version) const;
  void run_worker();

  store::Store& store_;
  SourceLookup lookup_;
  Clock& clock_;
  Metrics& metrics_;
  CacheOptions options_;

  mutable std::mutex mu_;  // a leaf: nothing else is locked while it is held
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  std::list<Entry*> lru_;  // front: most recently used
  Usage total_;
  std::unordered_map<std::string, Usage> usage_;  // per source
  Gauge* entries_gauge_;
  Gauge* bytes_gauge_;
  std::mutex buckets_mu_;
  std::unordered_map<std::string, Bucket> buckets_;          // per source: new-key fetches
  std::map<std::string, Clock::time_point> last_scheduled_;  // per source, for tick()

  // The default executor's worker thread.
  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  std::deque<std::function<void()>> worker_queue_;
  bool worker_stop_ = false;
  std::thread worker_;
};

}  // namespace extdata::cache
