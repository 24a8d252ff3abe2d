#include "cache/record_cache.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/limits.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/shutdown.h"
#include "core/time.h"
#include "extract/record_set_binary.h"

namespace extdata::cache {

namespace {

void append_key_part(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '%' || c == '&' || c == '=' || c == '?' || c == '#' || u < 0x20) {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", u);
      out += buffer;
    } else {
      out.push_back(c);
    }
  }
}

// FNV-1a: stable across builds and runs, unlike std::hash.
std::uint64_t fingerprint(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::optional<double> spec_seconds(const nlohmann::json& spec, const char* key) {
  const auto it = spec.find(key);
  if (it == spec.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

constexpr double kDefaultTtlSeconds = 300;

// The Retry-After an error carries (details.retry_after: seconds, fractions allowed; an HTTP
// date is not kept in details), zero when none.
std::chrono::duration<double> retry_after_of(const Error& error) {
  const auto it = error.details.find("retry_after");
  if (it == error.details.end()) return {};
  char* end = nullptr;
  const double seconds = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || !(seconds > 0) || seconds > 86400) return {};
  return std::chrono::duration<double>(seconds);
}

// Keys worth a snapshot without being served twice: the source's variable-free key (one per
// source) and every key of a source that declares `snapshot: true`.
bool always_kept(const sources::Source& src, const sources::Variables& variables) {
  if (variables.empty()) return true;
  const auto it = src.config().spec.find("snapshot");
  return it != src.config().spec.end() && it->is_boolean() && it->get<bool>();
}

Error rate_limited(const std::string& source, long long wait_seconds) {
  return Error("cache.rate_limited",
               "source '" + source + "' has fetched " +
                   std::to_string(limits().new_keys_per_minute) +
                   " keys that were not cached within a minute; this request needs one more",
               "try again in " + std::to_string(wait_seconds) + " s (Retry-After). The budget is " +
                   describe_limit(&Limits::new_keys_per_minute) + ".")
      .with("retry_after", std::to_string(wait_seconds));
}

Clock::time_point::duration seconds_duration(double seconds) {
  return std::chrono::duration_cast<Clock::time_point::duration>(
      std::chrono::duration<double>(seconds));
}

std::int64_t unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Renews a store lease every third of its lifetime while a long fetch runs, so that only a
// holder that died loses it. The wait is real time (the lease's expiry is the store's, on the
// injected clock); a fetch in a unit test ends long before the first renewal.
class LeaseKeeper {
 public:
  LeaseKeeper(store::Store& store, Clock& clock, std::string name, std::string holder,
              std::chrono::milliseconds ttl)
      : store_(store),
        clock_(clock),
        name_(std::move(name)),
        holder_(std::move(holder)),
        ttl_(ttl),
        thread_([this] { run(); }) {}
  ~LeaseKeeper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, ttl_ / 3, [this] { return stop_; })) {
      lock.unlock();
      auto renewed = store_.acquire_lease(name_, holder_, unix_ms(clock_.now()), ttl_.count());
      if (!renewed.ok() || !renewed->has_value())
        log::warn("cluster.lease_lost", {{"lease", name_}});
      lock.lock();
    }
  }

  store::Store& store_;
  Clock& clock_;
  const std::string name_, holder_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace

Result<std::shared_ptr<const void>> DerivedData::get_or_build(
    const std::string& tag, const std::function<Result<std::shared_ptr<const void>>()>& build) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mu_);
    auto& found = slots_[tag];
    if (!found) found = std::make_shared<Slot>();
    slot = found;
  }
  std::lock_guard build_lock(slot->build_mu);
  if (slot->value) return slot->value;
  EXTDATA_ASSIGN_OR_RETURN(auto built, build());
  slot->value = built;
  return built;
}

std::shared_ptr<const void> DerivedData::find(const std::string& tag) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mu_);
    const auto it = slots_.find(tag);
    if (it == slots_.end()) return nullptr;
    slot = it->second;
  }
  std::unique_lock build_lock(slot->build_mu, std::try_to_lock);
  return build_lock.owns_lock() ? slot->value : nullptr;
}

void DerivedData::erase_prefix(const std::string& prefix) {
  std::shared_ptr<DerivedData> previous;
  {
    std::lock_guard lock(mu_);
    for (auto it = slots_.lower_bound(prefix);
         it != slots_.end() && it->first.starts_with(prefix);) {
      it = slots_.erase(it);
    }
    previous = previous_;
  }
  if (previous) previous->erase_prefix(prefix);
}

void DerivedData::erase(const std::string& tag) {
  std::lock_guard lock(mu_);
  slots_.erase(tag);
}

bool DerivedData::empty() {
  std::lock_guard lock(mu_);
  return slots_.empty();
}

void DerivedData::set_previous(std::shared_ptr<DerivedData> derived,
                               std::shared_ptr<const extract::RecordSet> records,
                               std::shared_ptr<const extract::RecordChanges> changes) {
  if (derived) {
    std::lock_guard lock(derived->mu_);  // one generation only: no chain of old record sets
    derived->previous_.reset();
    derived->previous_records_.reset();
    derived->changes_.reset();
  }
  std::lock_guard lock(mu_);
  previous_ = std::move(derived);
  previous_records_ = std::move(records);
  changes_ = std::move(changes);
}

std::optional<DerivedData::Previous> DerivedData::previous(const std::string& tag) {
  Previous out;
  std::shared_ptr<DerivedData> previous;
  {
    std::lock_guard lock(mu_);
    if (!previous_) return std::nullopt;
    previous = previous_;
    out.records = previous_records_;
    out.changes = changes_;
  }
  out.value = previous->find(tag);
  if (!out.value) return std::nullopt;
  return out;
}

void DerivedData::release_previous(const std::string& tag) {
  std::shared_ptr<DerivedData> previous;
  {
    std::lock_guard lock(mu_);
    previous = previous_;
  }
  if (!previous) return;
  previous->erase(tag);
  if (!previous->empty()) return;
  std::lock_guard lock(mu_);
  if (previous_ == previous) {
    previous_.reset();
    previous_records_.reset();
    changes_.reset();
  }
}

struct RecordCache::Entry {
  std::string key;
  std::string source;
  sources::Variables variables;
  Counter* hits = nullptr;
  Counter* misses = nullptr;
  Counter* stale_served = nullptr;
  Counter* evictions = nullptr;

  // Guarded by RecordCache::mu_.
  std::list<Entry*>::iterator lru;  // its place in lru_
  bool in_map = false;
  size_t charged_bytes = 0;  // counted in the totals
  // Written under `mu`, read under RecordCache::mu_: memory_bytes of `records`.
  std::atomic<size_t> bytes{0};

  std::mutex mu;
  std::condition_variable done;
  std::shared_ptr<const extract::RecordSet> records;
  std::shared_ptr<DerivedData> derived;
  std::string cursor;            // where the source's next incremental sync of `records` starts
  std::string snapshot_problem;  // why the stored snapshot was not served (for the status)
  Clock::time_point fetched_at{};
  std::optional<Error> error;       // the last fetch's failure; cleared by a success
  Clock::time_point retry_after{};  // no fetch before this after a failure
  bool loading = false;             // a fetch is running
  bool refresh_queued = false;      // a background refresh waits on the executor
  bool snapshot_checked = false;    // the store was asked for this key's snapshot
  size_t served = 0;                // answers given from this entry
  size_t served_at_fetch = 0;       // `served` when the records were last fetched
  bool keep_snapshot = false;       // worth a snapshot (served twice, declared, variable-free)
  bool persisted = false;           // `records` are in the store
  bool write_queued = false;        // a snapshot write waits on the executor
};

RecordCache::RecordCache(store::Store& store, SourceLookup lookup, Clock& clock, Metrics& metrics,
                         CacheOptions options)
    : store_(store),
      lookup_(std::move(lookup)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      entries_gauge_(&metrics_.gauge("extdata_cache_entries", {},
                                     "Record sets in the record cache, over all sources")),
      bytes_gauge_(&metrics_.gauge("extdata_cache_bytes", {},
                                   "Memory of the cached record sets (RecordSet::memory_bytes)")) {
  if (!options_.executor) {
    worker_ = std::thread([this] { run_worker(); });
    options_.executor = [this](std::function<void()> task) {
      {
        std::lock_guard lock(worker_mu_);
        worker_queue_.push_back(std::move(task));
      }
      worker_cv_.notify_one();
    };
  }
}

RecordCache::~RecordCache() {
  if (worker_.joinable()) {
    {
      std::lock_guard lock(worker_mu_);
      worker_stop_ = true;
      worker_queue_.clear();
    }
    worker_cv_.notify_all();
    worker_.join();
  }
}

void RecordCache::run_worker() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(worker_mu_);
      worker_cv_.wait(lock, [this] { return worker_stop_ || !worker_queue_.empty(); });
      if (worker_stop_) return;
      task = std::move(worker_queue_.front());
      worker_queue_.pop_front();
    }
    task();
  }
}

std::string RecordCache::key_for(const std::string& source, const sources::Variables& variables) {
  std::string key = source;
  char separator = '?';
  for (const auto& [name, value] : variables) {
    key.push_back(separator);
    separator = '&';
    append_key_part(key, name);
    key.push_back('=');
    append_key_part(key, value);
  }
  return key;
}

std::string RecordCache::store_key(const sources::Source& src, const std::string& key) const {
  const auto& config = src.config();
  char hex[17];
  std::snprintf(
      hex, sizeof hex, "%016llx",
      static_cast<unsigned long long>(fingerprint(config.type + "\n" + config.masked().dump())));
  return key + "#" + hex;
}

double RecordCache::ttl_of(const sources::Source& src, std::optional<double> override) const {
  if (override) return *override;
  return spec_seconds(src.config().spec, "cache_ttl").value_or(kDefaultTtlSeconds);
}

std::shared_ptr<RecordCache::Entry> RecordCache::entry_for(const std::string& source,
                                                           const sources::Variables& variables) {
  std::string key = key_for(source, variables);
  std::lock_guard lock(mu_);
  auto& slot = entries_[key];
  if (slot) {
    touch(*slot);
    return slot;
  }
  auto entry = std::make_shared<Entry>();
  slot = entry;
  entry->key = std::move(key);
  entry->source = source;
  entry->variables = variables;
  const Labels labels{{"source", source}};
  entry->hits =
      &metrics_.counter("extdata_cache_hits_total", labels, "Record cache hits (fresh data)");
  entry->misses = &metrics_.counter("extdata_cache_misses_total", labels,
                                    "Record cache misses (nothing in memory)");
  entry->stale_served = &metrics_.counter("extdata_cache_stale_served_total", labels,
                                          "Requests answered with stale records");
  entry->evictions = &metrics_.counter("extdata_cache_evictions_total", labels,
                                       "Record sets evicted from memory (LRU, over a bound)");
  entry->in_map = true;
  lru_.push_front(entry.get());
  entry->lru = lru_.begin();
  ++total_.entries;
  ++usage_[source].entries;
  // Evicting waits until the entry is fetched (account): a request refused before its fetch
  // (the new-key budget) must not push cached keys out.
  entries_gauge_->set(static_cast<double>(total_.entries));
  return entry;
}

std::shared_ptr<RecordCache::Entry> RecordCache::find_entry(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  touch(*it->second);
  return it->second;
}

void RecordCache::touch(Entry& entry) {
  lru_.splice(lru_.begin(), lru_, entry.lru);
}

bool RecordCache::over_bounds(const Usage& usage, bool total) const {
  const Limits& l = limits();
  const size_t max_entries = total ? l.cache_max_entries : l.cache_source_max_entries;
  const size_t max_mb = total ? l.cache_max_mb : l.cache_source_max_mb;
  if (usage.entries > max_entries) return true;
  return max_mb <= (SIZE_MAX >> 20) && usage.bytes > (max_mb << 20);
}

// Walks from the least recently used end and evicts what no one holds (use_count 1: only the
// map; fetches, waiters and queued tasks hold a copy, and copies are made under mu_) until
// the totals and every source are within their bounds.
void RecordCache::evict_over_bounds(const Entry* spare) {
  const auto needed = [this] {
    if (over_bounds(total_, true)) return true;
    for (const auto& [source, usage] : usage_)
      if (over_bounds(usage, false)) return true;
    return false;
  };
  if (needed()) {
    for (auto it = lru_.end(); it != lru_.begin();) {
      --it;
      Entry* entry = *it;
      if (entry == spare) continue;
      const bool total_over = over_bounds(total_, true);
      if (!total_over && !over_bounds(usage_.at(entry->source), false)) {
        if (!needed()) break;
        continue;
      }
      const auto found = entries_.find(entry->key);
      if (found == entries_.end() || found->second.use_count() > 1) continue;
      entry->evictions->inc();
      ++it;  // remove_entry erases `entry`'s place; carry on from its neighbour
      remove_entry(*entry);
    }
  }
  entries_gauge_->set(static_cast<double>(total_.entries));
  bytes_gauge_->set(static_cast<double>(total_.bytes));
}

void RecordCache::remove_entry(Entry& entry) {
  lru_.erase(entry.lru);
  total_.entries -= 1;
  total_.bytes -= entry.charged_bytes;
  const auto usage = usage_.find(entry.source);
  usage->second.entries -= 1;
  usage->second.bytes -= entry.charged_bytes;
  if (usage->second.entries == 0) usage_.erase(usage);
  entry.in_map = false;
  entry.charged_bytes = 0;
  entries_.erase(entries_.find(entry.key));  // may destroy `entry`: last
}

void RecordCache::account(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mu_);
  if (!entry->in_map) return;
  const size_t bytes = entry->bytes.load();
  Usage& usage = usage_.at(entry->source);
  total_.bytes = total_.bytes - entry->charged_bytes + bytes;
  usage.bytes = usage.bytes - entry->charged_bytes + bytes;
  entry->charged_bytes = bytes;
  evict_over_bounds(entry.get());
}

void RecordCache::forget_if_empty(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mu_);
  if (!entry->in_map || entry.use_count() > 2) return;  // the map's copy and ours
  // try_lock: mu_ stays a leaf (nobody waits for an entry while holding it).
  std::unique_lock entry_lock(entry->mu, std::try_to_lock);
  if (!entry_lock.owns_lock() || entry->records || entry->loading) return;
  entry_lock.unlock();
  remove_entry(*entry);
  entries_gauge_->set(static_cast<double>(total_.entries));
}

size_t RecordCache::entries() const {
  std::lock_guard lock(mu_);
  return total_.entries;
}

size_t RecordCache::bytes() const {
  std::lock_guard lock(mu_);
  return total_.bytes;
}

// A token bucket kept as one time (GCRA): `full_at` is when the bucket would be full again.
// Each fetch moves it one interval (a minute / budget) later; a fetch is allowed while that
// stays within a minute of now. Integer clock ticks: no rounding drift.
std::optional<long long> RecordCache::take_new_key_token(const std::string& source) {
  using std::chrono::duration_cast;
  const auto window = duration_cast<Clock::time_point::duration>(std::chrono::minutes(1));
  const auto budget = static_cast<Clock::time_point::duration::rep>(
      std::max<size_t>(1, std::min<size_t>(limits().new_keys_per_minute, window.count())));
  const Clock::time_point::duration interval = window / budget;
  const auto now = clock_.now();
  std::lock_guard lock(buckets_mu_);
  Bucket& bucket = buckets_[source];
  const auto full_at = std::max(bucket.full_at, now) + interval;
  if (full_at - now <= interval * budget) {
    bucket.full_at = full_at;
    return std::nullopt;
  }
  const auto wait = full_at - now - interval * budget;
  return std::max<long long>(1,
                             (duration_cast<std::chrono::milliseconds>(wait).count() + 999) / 1000);
}

struct RecordCache::Stored {
  std::shared_ptr<const extract::RecordSet> records;
  Clock::time_point fetched_at;
  std::string cursor;
};

// Binary snapshots are read piece by piece into place; JSON ones (written before the binary
// format) are parsed. A snapshot that fails its checks (checksum, format version, order) is
// never served: it is reported (log, counter, the source status' sync note) and the caller
// fetches instead.
std::optional<RecordCache::Stored> RecordCache::read_stored(const std::string& entry_key,
                                                            const std::string& source,
                                                            const sources::Source& src,
                                                            std::string& problem) {
  extract::BinarySnapshot::Reader reader;
  std::optional<bool> binary;
  std::string json_text;
  auto snapshot =
      store_.read_snapshot_pieces(store_key(src, entry_key), [&](std::string_view piece) -> Status {
        if (!binary) binary = extract::BinarySnapshot::looks_binary(piece);
        if (*binary) return reader.add(piece);
        json_text.append(piece);
        return ok_status();
      });
  Result<extract::RecordSet> records = Error("cache.unavailable", "no snapshot", "");
  if (snapshot.ok() && snapshot->has_value()) {
    records = binary.value_or(false) ? reader.finish()
                                     : extract::RecordSet::from_json(std::move(json_text));
  }
  if (!snapshot.ok() || (snapshot->has_value() && !records.ok())) {
    const Error& error = snapshot.ok() ? records.error() : snapshot.error();
    if (error.code != "extract.snapshot" && error.code != "extract.json") {
      log::warn("cache.snapshot_read_failed", {{"entry", entry_key}, {"error", error.to_string()}});
      return std::nullopt;
    }
    const auto reason = error.details.find("reason");
    const std::string why = reason != error.details.end() ? reason->second : "unreadable";
    metrics_
        .counter("extdata_cache_snapshots_rejected_total", {{"source", source}, {"reason", why}},
                 "Stored snapshots not served: corrupt, of another format version, unreadable")
        .inc();
    log::warn("cache.snapshot_rejected", {{"entry", entry_key}, {"error", error.to_string()}});
    problem = "the stored snapshot was not served (" + why + "): " + error.message;
    return std::nullopt;
  }
  if (!snapshot->has_value()) return std::nullopt;
  Stored stored{std::make_shared<const extract::RecordSet>(std::move(records).value()),
                Clock::time_point{std::chrono::seconds{(*snapshot)->fetched_at}},
                (*snapshot)->cursor};
  memory::release_free_memory();
  return stored;
}

void RecordCache::load_snapshot(Entry& entry, const sources::Source& src) {
  entry.snapshot_checked = true;
  auto stored = read_stored(entry.key, entry.source, src, entry.snapshot_problem);
  if (!stored) return;
  metrics_
      .counter("extdata_cache_snapshots_loaded_from_store_total",
               {{"source", entry.source}, {"reason", "first_use"}},
               "Record sets loaded from a stored snapshot instead of fetched: on first use "
               "(after a start) or after another instance's sync (peer_sync)")
      .inc();
  entry.records = std::move(stored->records);
  entry.derived = std::make_shared<DerivedData>();
  entry.fetched_at = stored->fetched_at;
  entry.cursor = std::move(stored->cursor);
  entry.bytes = entry.records->memory_bytes();
  entry.persisted = true;
  entry.keep_snapshot = true;  // it was kept before
}

CachedRecords RecordCache::answer(const Entry& entry, double ttl, Clock::time_point now) const {
  CachedRecords out;
  out.records = entry.records;
  out.derived = entry.derived;
  out.fetched_at = entry.fetched_at;
  out.age_seconds = std::max(0.0, seconds_between(entry.fetched_at, now));
  out.error = entry.error;
  // Stale-if-error: records whose last refresh failed are stale even when younger than the TTL.
  out.stale = out.age_seconds >= ttl || out.error.has_value();
  out.key = entry.key;
  out.source = entry.source;
  out.cursor = entry.cursor;
  out.record_count = entry.records ? entry.records->size() : 0;
  out.kept = entry.keep_snapshot;
  return out;
}

// With entry->mu held and records present: the answer, counted; a stale one starts the
// background refresh (never waits for it).
CachedRecords RecordCache::serve_in_memory(const std::shared_ptr<Entry>& entry,
                                           const std::shared_ptr<sources::Source>& src, double ttl,
                                           Clock::time_point now) {
  CachedRecords out = answer(*entry, ttl, now);
  if (!out.stale) {
    entry->hits->inc();
  } else {
    if (!entry->loading && !entry->refresh_queued && now >= entry->retry_after) {
      schedule_refresh(entry, src, ttl);
    }
    entry->stale_served->inc();
  }
  note_served(entry, src);
  return out;
}

// With entry->mu held, after an answer: a key answered twice becomes worth a snapshot; when its
// records are not in the store yet (and no fetch will write them), a write is queued.
void RecordCache::note_served(const std::shared_ptr<Entry>& entry,
                              const std::shared_ptr<sources::Source>& src) {
  if (++entry->served >= 2) entry->keep_snapshot = true;
  if (!entry->keep_snapshot || entry->persisted || !entry->records || entry->loading ||
      entry->refresh_queued || entry->write_queued) {
    return;
  }
  entry->write_queued = true;
  options_.executor([this, entry, src, records = entry->records, cursor = entry->cursor,
                     fetched_at = entry->fetched_at] {
    const bool written = write_snapshot(*entry, *src, *records, cursor, fetched_at);
    std::lock_guard lock(entry->mu);
    entry->write_queued = false;
    if (written && entry->records == records) entry->persisted = true;
  });
}

bool RecordCache::write_snapshot(const Entry& entry, const sources::Source& src,
                                 const extract::RecordSet& records, const std::string& cursor,
                                 Clock::time_point fetched_at, const store::Fence& fence) {
  store::Snapshot snapshot;
  snapshot.cursor = cursor;
  snapshot.key = store_key(src, entry.key);
  snapshot.source = entry.source;
  snapshot.fetched_at = unix_seconds(fetched_at);
  snapshot.records = records.size();
  // Binary, page by page: the records are written as held, never as one JSON text.
  const auto saved = store_.put_snapshot_pieces(
      snapshot,
      [&](const store::Store::PieceSink& sink) {
        return extract::BinarySnapshot::write(records, sink);
      },
      fence);
  memory::release_free_memory();
  if (!saved.ok()) {
    count_fenced(saved);
    log::warn("cache.snapshot_write_failed",
              {{"entry", entry.key}, {"error", saved.error().to_string()}});
    return false;
  }
  const auto trimmed = store_.trim_snapshots(entry.source, limits().snapshot_max_per_source);
  if (!trimmed.ok()) {
    log::warn("cache.snapshot_trim_failed",
              {{"source", entry.source}, {"error", trimmed.error().to_string()}});
  }
  return true;
}

// Derived rows live in the snapshot table under a source name no source can have ("derived:"
// is not a valid name), so counting and trimming a source's snapshots never sees them; the
// key names the record set's snapshot key (which holds the source configuration's
// fingerprint) and the object.
std::optional<RecordCache::DerivedRow> RecordCache::derived_row(const CachedRecords& cached,
                                                                const std::string& name,
                                                                const std::string& version) const {
  if (cached.source.empty()) return std::nullopt;
  auto src = lookup_(cached.source);
  if (!src) return std::nullopt;
  DerivedRow row;
  row.stamp.key = "derived:" + store_key(*src, cached.key) + "#" + name;
  row.stamp.source = "derived:" + cached.source;
  row.stamp.fetched_at = unix_seconds(cached.fetched_at);
  row.stamp.records = cached.record_count;
  row.stamp.cursor = version + "\n" + cached.cursor;
  return row;
}

namespace {

// Passes a read on to `inner`, noting whether an error was `inner`'s (it refused the bytes) or
// the store's.
class NotingRefusal final : public ByteReceiver {
 public:
  explicit NotingRefusal(ByteReceiver& inner) : inner_(inner) {}
  Status begin(std::uint64_t total) override { return note(inner_.begin(total)); }
  Result<std::span<char>> room() override {
    auto room = inner_.room();
    refused_ = refused_ || !room.ok();
    return room;
  }
  Status received(size_t n) override { return note(inner_.received(n)); }
  bool refused() const { return refused_; }

 private:
  Status note(Status status) {
    refused_ = refused_ || !status.ok();
    return status;
  }
  ByteReceiver& inner_;
  bool refused_ = false;
};

}  // namespace

bool RecordCache::load_derived(const CachedRecords& cached, const std::string& name,
                               const std::string& version, ByteReceiver& into) {
  const auto row = derived_row(cached, name, version);
  if (!row) return false;
  // The stamp comes first in the row: skip the bytes of a row saved for other records.
  const auto info = store_.get_snapshot_info(row->stamp.key);
  const auto same_records = [&](const store::Snapshot& stored) {
    return stored.fetched_at == row->stamp.fetched_at && stored.records == row->stamp.records &&
           stored.cursor == row->stamp.cursor;
  };
  if (!info.ok() || !info->has_value() || !same_records(**info)) return false;
  NotingRefusal noting(into);
  const auto read = store_.read_snapshot_into(row->stamp.key, noting);
  if (!read.ok()) {
    if (noting.refused()) return true;  // `into` holds its reason
    log::warn("cache.derived_read_failed",
              {{"entry", cached.key}, {"name", name}, {"error", read.error().to_string()}});
    return false;
  }
  // Saved again between the two reads: the bytes are another save's.
  return read->has_value() && same_records(**read);
}

void RecordCache::save_derived(const CachedRecords& cached, const std::string& name,
                               const std::string& version,
                               std::function<Status(const store::Store::PieceSink&)> write) {
  if (!cached.kept) return;
  auto row = derived_row(cached, name, version);
  if (!row) return;
  Counter& saved =
      metrics_.counter("extdata_cache_derived_saved_total", {{"source", cached.source}},
                       "Derived data (option tables) stored beside snapshots");
  options_.executor(
      [this, row = std::move(*row), write = std::move(write), &saved, entry = cached.key] {
        const Status status = store_.put_snapshot_pieces(row.stamp, write);
        memory::release_free_memory();
        if (!status.ok()) {
          log::warn("cache.derived_write_failed",
                    {{"entry", entry}, {"error", status.error().to_string()}});
          return;
        }
        saved.inc();
      });
}

bool RecordCache::in_memory(const std::string& source, const sources::Variables& variables) {
  auto entry = find_entry(key_for(source, variables));
  if (!entry) return false;
  std::unique_lock lock(entry->mu, std::try_to_lock);
  return lock.owns_lock() && entry->records != nullptr;
}

std::optional<CachedRecords> RecordCache::stored_stamp(const std::string& source,
                                                       const sources::Variables& variables,
                                                       std::optional<double> ttl_override) {
  auto src = lookup_(source);
  if (!src) return std::nullopt;
  CachedRecords out;
  out.key = key_for(source, variables);
  const auto info = store_.get_snapshot_info(store_key(*src, out.key));
  if (!info.ok() || !info->has_value()) return std::nullopt;
  out.source = source;
  out.cursor = (*info)->cursor;
  out.record_count = (*info)->records;
  out.fetched_at = Clock::time_point{std::chrono::seconds{(*info)->fetched_at}};
  out.kept = true;  // it was kept before
  age(out, ttl_override);
  return out;
}

void RecordCache::age(CachedRecords& cached, std::optional<double> ttl_override) {
  auto src = lookup_(cached.source);
  if (!src) return;
  cached.age_seconds = std::max(0.0, seconds_between(cached.fetched_at, clock_.now()));
  cached.stale = cached.age_seconds >= ttl_of(*src, ttl_override) || cached.error.has_value();
}

void RecordCache::age_stored(CachedRecords& cached, std::optional<double> ttl_override,
                             bool keep_snapshot) {
  if (auto entry = find_entry(cached.key)) {
    std::unique_lock lock(entry->mu, std::try_to_lock);  // held while a load runs
    if (lock.owns_lock() && !entry->records && entry->error) {
      cached.error = entry->error;
      if (!entry->loading && !entry->refresh_queued && clock_.now() >= entry->retry_after) {
        entry->refresh_queued = true;
        options_.executor([this, entry, ttl_override, keep_snapshot] {
          {
            std::lock_guard relock(entry->mu);
            entry->refresh_queued = false;
          }
          (void)get(entry->source, entry->variables, ttl_override, keep_snapshot);
        });
      }
    }
  }
  age(cached, ttl_override);
}

void RecordCache::load_in_background(const std::string& source, const sources::Variables& variables,
                                     std::optional<double> ttl_override, bool keep_snapshot) {
  options_.executor([this, source, variables, ttl_override, keep_snapshot] {
    (void)get(source, variables, ttl_override, keep_snapshot);
  });
}

std::optional<CachedRecords> RecordCache::peek(const std::string& source,
                                               const sources::Variables& variables,
                                               std::optional<double> ttl_override,
                                               bool keep_snapshot) {
  auto src = lookup_(source);
  if (!src) return std::nullopt;
  const double ttl = ttl_of(*src, ttl_override);
  auto entry = find_entry(key_for(source, variables));
  if (!entry) return std::nullopt;
  // get() holds the lock while it loads a snapshot: do not wait for that here.
  std::unique_lock lock(entry->mu, std::try_to_lock);
  if (!lock.owns_lock() || !entry->records) return std::nullopt;
  if (keep_snapshot) entry->keep_snapshot = true;
  return serve_in_memory(entry, src, ttl, clock_.now());
}

Result<CachedRecords> RecordCache::get(const std::string& source,
                                       const sources::Variables& variables,
                                       std::optional<double> ttl_override, bool keep_snapshot) {
  auto src = lookup_(source);
  if (!src) {
    return Error("source.not_found", "no source named '" + source + "'",
                 "create the source first, or check the field's `source`");
  }
  const double ttl = ttl_of(*src, ttl_override);
  auto entry = entry_for(source, variables);

  std::unique_lock lock(entry->mu);
  if (keep_snapshot || always_kept(*src, variables)) entry->keep_snapshot = true;
  if (!entry->records && !entry->snapshot_checked) {
    load_snapshot(*entry, *src);
    if (entry->records) {
      CachedRecords out = serve_in_memory(entry, src, ttl, clock_.now());
      lock.unlock();
      account(entry);
      return out;
    }
  }

  Clock::time_point now = clock_.now();
  if (entry->records) return serve_in_memory(entry, src, ttl, now);

  entry->misses->inc();
  if (entry->loading) {
    entry->done.wait(lock, [&] { return !entry->loading; });
  } else if (entry->error && now < entry->retry_after) {
    return *entry->error;  // failed recently: do not hammer a failing upstream
  } else if (const auto wait = take_new_key_token(source)) {
    metrics_
        .counter("extdata_cache_rate_limited_total", {{"source", source}},
                 "Requests refused: the source's budget of new keys was spent")
        .inc();
    lock.unlock();
    forget_if_empty(entry);
    return rate_limited(source, *wait);
  } else {
    entry->loading = true;
    lock.unlock();
    fetch_into(entry, src, ttl, Want{now - seconds_duration(ttl)});
    lock.lock();
  }
  if (entry->records) {
    CachedRecords out = answer(*entry, ttl, clock_.now());
    note_served(entry, src);
    return out;
  }
  if (entry->error) return *entry->error;
  return Error("cache.unavailable", "no records for '" + entry->key + "'", "retry the request");
}

void RecordCache::schedule_refresh(const std::shared_ptr<Entry>& entry,
                                   const std::shared_ptr<sources::Source>& src, double ttl) {
  entry->refresh_queued = true;
  options_.executor([this, entry, src, ttl] {
    {
      std::lock_guard lock(entry->mu);
      entry->refresh_queued = false;
      if (entry->loading) return;  // someone else is fetching it already
      entry->loading = true;
    }
    fetch_into(entry, src, ttl, Want{clock_.now() - seconds_duration(ttl)});
  });
}

void RecordCache::fetch_into(const std::shared_ptr<Entry>& entry,
                             const std::shared_ptr<sources::Source>& src, double ttl,
                             const Want& want) {
  bool keep;
  {
    std::lock_guard lock(entry->mu);
    keep = entry->keep_snapshot;
  }
  // Keys not worth a snapshot cannot be handed to the other instances: fetched here.
  if (options_.cluster.holder.empty() || !keep) return fetch_upstream(entry, src, ttl, {});
  fetch_coordinated(entry, src, ttl, want);
}

void RecordCache::fetch_coordinated(const std::shared_ptr<Entry>& entry,
                                    const std::shared_ptr<sources::Source>& src, double ttl,
                                    const Want& want) {
  const ClusterOptions& cluster = options_.cluster;
  const std::string name = "sync:" + store_key(*src, entry->key);
  const auto asked_at = clock_.now();
  // For refresh(): which syncs overlap this call. Each acquisition since the token seen now
  // was a sync begun after the call; the one running now (held by another) overlaps it.
  std::int64_t token_seen = 0;
  bool running_now = false;
  if (auto seen = store_.get_lease(name); seen.ok() && seen->has_value()) {
    token_seen = (*seen)->token;
    running_now = !(*seen)->holder.empty() && (*seen)->holder != cluster.holder &&
                  (*seen)->expires_at_ms > unix_ms(asked_at);
  }
  bool waited = false;
  for (;;) {
    auto lease = store_.acquire_lease(name, cluster.holder, unix_ms(clock_.now()),
                                      cluster.lease_ttl.count());
    if (!lease.ok()) {
      // The store is down: serving this instance's own fetch beats serving nothing.
      log::warn("cluster.lease_failed", {{"lease", name}, {"error", lease.error().to_string()}});
      metrics_
          .counter("extdata_cluster_lease_errors_total", {},
                   "Leases the store could not grant: the instance fetched on its own")
          .inc();
      return fetch_upstream(entry, src, ttl, {});
    }
    if (!lease->has_value()) {
      if (!waited)
        metrics_
            .counter("extdata_cluster_lease_waits_total", {{"source", entry->source}},
                     "Fetches that found another instance syncing the key and waited for it")
            .inc();
      waited = true;
      if (process_shutdown().cancelled()) return fetch_upstream(entry, src, ttl, {});
      clock_.sleep_for(cluster.poll);
      continue;
    }
    metrics_
        .counter("extdata_cluster_lease_acquired_total", {{"purpose", "sync"}},
                 "Store leases this instance took: sync (one upstream sync per key across "
                 "instances) and token (one token request per credential)")
        .inc();
    const store::Fence fence{name, (*lease)->token};
    const bool others_synced =
        want.fresh_since || (*lease)->token - token_seen - 1 + (running_now ? 1 : 0) >= 1;
    if (others_synced && load_newer(entry, *src, want.fresh_since.value_or(asked_at))) {
      (void)store_.release_lease(name, cluster.holder);
      return;
    }
    {
      LeaseKeeper keeper(store_, clock_, name, cluster.holder, cluster.lease_ttl);
      fetch_upstream(entry, src, ttl, fence);
    }
    (void)store_.release_lease(name, cluster.holder);
    return;
  }
}

bool RecordCache::load_newer(const std::shared_ptr<Entry>& entry, const sources::Source& src,
                             Clock::time_point since) {
  auto info = store_.get_snapshot_info(store_key(src, entry->key));
  if (!info.ok() || !info->has_value()) return false;
  const std::int64_t at = (*info)->fetched_at;
  {
    std::lock_guard lock(entry->mu);
    if (at < unix_seconds(since)) return false;
    if (entry->records && at <= unix_seconds(entry->fetched_at)) return false;
  }
  std::string problem;
  auto stored = read_stored(entry->key, entry->source, src, problem);
  if (!stored) return false;
  metrics_
      .counter("extdata_cache_snapshots_loaded_from_store_total",
               {{"source", entry->source}, {"reason", "peer_sync"}},
               "Record sets loaded from a stored snapshot instead of fetched: on first use "
               "(after a start) or after another instance's sync (peer_sync)")
      .inc();
  {
    std::lock_guard lock(entry->mu);
    entry->bytes = stored->records->memory_bytes();
    entry->records = std::move(stored->records);
    entry->cursor = std::move(stored->cursor);
    entry->served_at_fetch = entry->served;
    entry->derived = std::make_shared<DerivedData>();
    entry->fetched_at = stored->fetched_at;
    entry->error.reset();
    entry->retry_after = {};
    entry->snapshot_checked = true;
    entry->persisted = true;
    entry->loading = false;
    entry->done.notify_all();
  }
  account(entry);
  return true;
}

void RecordCache::fetch_upstream(const std::shared_ptr<Entry>& entry,
                                 const std::shared_ptr<sources::Source>& src, double ttl,
                                 const store::Fence& fence) {
  metrics_
      .counter("extdata_cache_refreshes_total", {{"source", entry->source}},
               "Upstream fetches by the cache")
      .inc();
  sources::FetchRequest request;
  request.variables = entry->variables;
  sources::SyncReport sync;
  request.sync = &sync;
  {
    // An incremental sync starts from the records in memory and where their sync ended.
    std::lock_guard lock(entry->mu);
    request.previous = {entry->records, entry->cursor};
  }
  auto fetched = src->fetch(request);
  const auto base = std::move(request.previous.records);
  request.previous = {};
  const auto now = clock_.now();
  if (fetched.ok()) {
    std::shared_ptr<const extract::RecordSet> records = std::move(fetched).value();
    bool keep;
    {
      std::lock_guard lock(entry->mu);
      keep = entry->keep_snapshot;
    }
    const bool persisted = keep && write_snapshot(*entry, *src, *records, sync.cursor, now, fence);
    {
      std::lock_guard lock(entry->mu);
      if (!entry->snapshot_problem.empty()) {
        sync.note += (sync.note.empty() ? "" : "; ") + entry->snapshot_problem + "; fetched again";
        entry->snapshot_problem.clear();
      }
    }
    record_status(entry->source, records->size(), nullptr, &sync, fence);
    {
      std::lock_guard lock(entry->mu);
      auto derived = std::make_shared<DerivedData>();
      // Changes applied to the records in memory: what was built from them can be patched.
      if (sync.incremental && sync.changes && base && entry->records == base && entry->derived)
        derived->set_previous(entry->derived, base, sync.changes);
      entry->bytes = records->memory_bytes();
      entry->records = std::move(records);
      entry->cursor = sync.cursor;
      entry->served_at_fetch = entry->served;
      entry->derived = std::move(derived);
      entry->fetched_at = now;
      entry->error.reset();
      entry->retry_after = {};
      entry->snapshot_checked = true;
      entry->persisted = persisted;
      entry->loading = false;
      entry->done.notify_all();
    }
    account(entry);
    return;
  }
  Error error = std::move(fetched).error();
  log::warn("cache.fetch_failed", {{"entry", entry->key}, {"error", error.to_string()}});
  record_status(entry->source, 0, &error, nullptr, fence);
  auto backoff = std::min(std::chrono::duration<double>(options_.error_backoff),
                          std::chrono::duration<double>(ttl));
  // A throttled upstream says when to come back (Retry-After): no earlier, whatever the TTL.
  backoff = std::max(backoff, retry_after_of(error));
  {
    std::lock_guard lock(entry->mu);
    entry->error = std::move(error);
    entry->retry_after = now + std::chrono::duration_cast<Clock::time_point::duration>(backoff);
    entry->loading = false;
    entry->done.notify_all();
  }
  account(entry);  // a failed key counts as an entry too (it holds the backoff)
}

void RecordCache::count_fenced(const Status& refused) {
  if (refused.ok() || refused.error().code != "store.fenced") return;
  metrics_
      .counter("extdata_cluster_fenced_writes_total", {},
               "Snapshot or status writes refused: another instance took the lease over")
      .inc();
}

void RecordCache::record_status(const std::string& source, size_t records, const Error* error,
                                const sources::SyncReport* sync, const store::Fence& fence) {
  store::SourceStatus status;
  if (auto previous = store_.get_status(source); previous.ok() && previous->has_value())
    status = **previous;
  status.source = source;
  status.last_fetch_at = unix_seconds(clock_.now());
  if (error) {
    status.last_error = error->message;
    status.last_error_hint = error->hint;
  } else {
    status.last_success_at = status.last_fetch_at;
    status.records = records;
    if (sync) {
      status.sync.mode = sync->mode;
      status.sync.note = sync->note;
      if (sync->incremental) {
        status.sync.last_incremental_at = status.last_fetch_at;
        status.sync.last_added = sync->added;
        status.sync.last_updated = sync->updated;
        status.sync.last_removed = sync->removed;
      } else {
        status.sync.last_full_at = status.last_fetch_at;
        status.sync.last_full_records = records;
      }
    }
    status.last_error.clear();
    status.last_error_hint.clear();
  }
  if (auto saved = store_.put_status(status, fence); !saved.ok()) {
    count_fenced(saved);
    log::warn("cache.status_write_failed",
              {{"source", source}, {"error", saved.error().to_string()}});
  }
}

Result<RefreshReport> RecordCache::refresh(const std::string& source, bool notify) {
  return refresh_keys(source, notify, Want{});
}

Result<RefreshReport> RecordCache::refresh_keys(const std::string& source, bool notify,
                                                const Want& want) {
  auto src = lookup_(source);
  if (!src) {
    return Error("source.not_found", "no source named '" + source + "'", "check the source name");
  }
  std::vector<std::shared_ptr<Entry>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : entries_) {
      if (entry->source == source) targets.push_back(entry);
    }
  }
  if (targets.empty()) targets.push_back(entry_for(source, {}));
  const double ttl = ttl_of(*src, std::nullopt);
  RefreshReport report;
  for (const auto& entry : targets) {
    {
      std::unique_lock lock(entry->mu);
      entry->done.wait(lock, [&] { return !entry->loading; });
      entry->loading = true;
      if (always_kept(*src, entry->variables)) entry->keep_snapshot = true;
    }
    fetch_into(entry, src, ttl, want);
    std::lock_guard lock(entry->mu);
    ++report.keys;
    if (entry->error) {
      report.errors.push_back(*entry->error);
    } else if (entry->records) {
      report.records += entry->records->size();
    }
  }
  if (notify && options_.after_refresh && report.errors.size() < report.keys)
    options_.after_refresh(source);
  return report;
}

void RecordCache::tick(Clock::time_point now) {
  std::vector<std::string> names;
  if (options_.list_sources) {
    names = options_.list_sources();
  } else if (auto listed = store_.list_sources(); listed.ok()) {
    for (const auto& s : *listed) names.push_back(s.name);
  } else {
    log::warn("cache.list_sources_failed", {{"error", listed.error().to_string()}});
    return;
  }
  for (const auto& name : names) {
    auto src = lookup_(name);
    if (!src) continue;
    const auto interval = spec_seconds(src->config().spec, "refresh");
    if (!interval || *interval <= 0) continue;
    {
      std::lock_guard lock(mu_);
      const auto last = last_scheduled_.find(name);
      if (last != last_scheduled_.end() && seconds_between(last->second, now) < *interval) continue;
    }
    if (!refresh_due(name, *src, now)) continue;  // looked at again on the next tick
    {
      std::lock_guard lock(mu_);
      last_scheduled_[name] = now;
    }
    // Another instance's sync within this interval serves as this instance's refresh.
    const Want want{now - seconds_duration(*interval)};
    options_.executor([this, name, want] {
      auto report = refresh_keys(name, true, want);
      if (!report.ok()) log::warn("cache.scheduled_refresh_failed", {{"source", name}});
    });
  }
}

// A scheduled refresh is due unless every cached key of the source is either waiting out a
// failure (a throttled upstream's Retry-After included) or unread since its last fetch and
// still younger than its TTL: records nobody reads need refreshing only as often as the TTL
// asks. A source with nothing cached is due (the variable-free key is warmed).
bool RecordCache::refresh_due(const std::string& source, const sources::Source& src,
                              Clock::time_point now) {
  std::vector<std::shared_ptr<Entry>> cached;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : entries_)
      if (entry->source == source) cached.push_back(entry);
  }
  if (cached.empty()) return true;
  const double ttl = ttl_of(src, std::nullopt);
  bool due = false;
  for (const auto& entry : cached) {
    std::lock_guard lock(entry->mu);
    if (entry->error && now < entry->retry_after) {
      metrics_
          .counter("extdata_cache_refreshes_deferred_total",
                   {{"source", source}, {"reason", "backoff"}},
                   "Scheduled refreshes put off: a failure's backoff (Retry-After) or no readers")
          .inc();
      return false;  // the upstream asked for a pause: stretch the schedule
    }
    const bool read = entry->served > entry->served_at_fetch;
    if (read || !entry->records || seconds_between(entry->fetched_at, now) >= ttl) due = true;
  }
  if (!due)
    metrics_
        .counter("extdata_cache_refreshes_deferred_total", {{"source", source}, {"reason", "idle"}},
                 "Scheduled refreshes put off: a failure's backoff (Retry-After) or no readers")
        .inc();
  return due;
}

void RecordCache::invalidate(const std::string& source) {
  std::unique_lock lock(mu_);
  std::vector<Entry*> gone;
  for (const auto& [key, entry] : entries_)
    if (entry->source == source) gone.push_back(entry.get());
  for (Entry* entry : gone) remove_entry(*entry);
  last_scheduled_.erase(source);
  entries_gauge_->set(static_cast<double>(total_.entries));
  bytes_gauge_->set(static_cast<double>(total_.bytes));
  lock.unlock();
  // Derived data stored for the old configuration can never be used again (its key holds the
  // configuration's fingerprint): drop it rather than leave it in the store.
  if (const auto dropped = store_.trim_snapshots("derived:" + source, 0); !dropped.ok()) {
    log::warn("cache.derived_drop_failed",
              {{"source", source}, {"error", dropped.error().to_string()}});
  }
}

void RecordCache::drop_derived(const std::string& prefix) {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : entries_) all.push_back(entry);
  }
  for (const auto& entry : all) {
    std::shared_ptr<DerivedData> derived;
    {
      std::lock_guard lock(entry->mu);
      derived = entry->derived;
    }
    if (derived) derived->erase_prefix(prefix);
  }
}

}  // namespace extdata::cache
