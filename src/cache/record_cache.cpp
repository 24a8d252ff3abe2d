#include "cache/record_cache.h"

#include <algorithm>
#include <cstdio>

#include "core/log.h"
#include "core/memory.h"
#include "core/time.h"

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
  std::lock_guard lock(mu_);
  for (auto it = slots_.lower_bound(prefix); it != slots_.end() && it->first.starts_with(prefix);) {
    it = slots_.erase(it);
  }
}

struct RecordCache::Entry {
  std::string key;
  std::string source;
  sources::Variables variables;
  Counter* hits = nullptr;
  Counter* misses = nullptr;
  Counter* stale_served = nullptr;

  std::mutex mu;
  std::condition_variable done;
  std::shared_ptr<const extract::RecordSet> records;
  std::shared_ptr<DerivedData> derived;
  Clock::time_point fetched_at{};
  std::optional<Error> error;       // the last fetch's failure; cleared by a success
  Clock::time_point retry_after{};  // no fetch before this after a failure
  bool loading = false;             // a fetch is running
  bool refresh_queued = false;      // a background refresh waits on the executor
  bool snapshot_checked = false;    // the store was asked for this key's snapshot
};

RecordCache::RecordCache(store::Store& store, SourceLookup lookup, Clock& clock, Metrics& metrics,
                         CacheOptions options)
    : store_(store),
      lookup_(std::move(lookup)),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)) {
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
  auto& entry = entries_[key];
  if (!entry) {
    entry = std::make_shared<Entry>();
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
  }
  return entry;
}

void RecordCache::load_snapshot(Entry& entry, const sources::Source& src) {
  entry.snapshot_checked = true;
  auto snapshot = store_.get_snapshot(store_key(src, entry.key));
  if (!snapshot.ok()) {
    log::warn("cache.snapshot_read_failed",
              {{"entry", entry.key}, {"error", snapshot.error().to_string()}});
    return;
  }
  if (!snapshot->has_value()) return;
  auto records = extract::RecordSet::from_json(std::move((*snapshot)->payload));
  if (!records.ok()) {
    log::warn("cache.snapshot_unreadable",
              {{"entry", entry.key}, {"error", records.error().to_string()}});
    return;
  }
  entry.records = std::make_shared<const extract::RecordSet>(std::move(records).value());
  entry.derived = std::make_shared<DerivedData>();
  entry.fetched_at = Clock::time_point{std::chrono::seconds{(*snapshot)->fetched_at}};
  snapshot->reset();
  memory::release_free_memory();
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
    return out;
  }
  if (!entry->loading && !entry->refresh_queued && now >= entry->retry_after) {
    schedule_refresh(entry, src, ttl);
  }
  entry->stale_served->inc();
  return out;
}

std::optional<CachedRecords> RecordCache::peek(const std::string& source,
                                               const sources::Variables& variables,
                                               std::optional<double> ttl_override) {
  auto src = lookup_(source);
  if (!src) return std::nullopt;
  const double ttl = ttl_of(*src, ttl_override);
  auto entry = entry_for(source, variables);
  // get() holds the lock while it loads a snapshot: do not wait for that here.
  std::unique_lock lock(entry->mu, std::try_to_lock);
  if (!lock.owns_lock() || !entry->records) return std::nullopt;
  return serve_in_memory(entry, src, ttl, clock_.now());
}

Result<CachedRecords> RecordCache::get(const std::string& source,
                                       const sources::Variables& variables,
                                       std::optional<double> ttl_override) {
  auto src = lookup_(source);
  if (!src) {
    return Error("source.not_found", "no source named '" + source + "'",
                 "create the source first, or check the field's `source`");
  }
  const double ttl = ttl_of(*src, ttl_override);
  auto entry = entry_for(source, variables);

  std::unique_lock lock(entry->mu);
  if (!entry->records && !entry->snapshot_checked) load_snapshot(*entry, *src);

  Clock::time_point now = clock_.now();
  if (entry->records) return serve_in_memory(entry, src, ttl, now);

  entry->misses->inc();
  if (entry->loading) {
    entry->done.wait(lock, [&] { return !entry->loading; });
  } else if (entry->error && now < entry->retry_after) {
    return *entry->error;  // failed recently: do not hammer a failing upstream
  } else {
    entry->loading = true;
    lock.unlock();
    fetch_into(entry, src, ttl);
    lock.lock();
  }
  if (entry->records) return answer(*entry, ttl, clock_.now());
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
    fetch_into(entry, src, ttl);
  });
}

void RecordCache::fetch_into(const std::shared_ptr<Entry>& entry,
                             const std::shared_ptr<sources::Source>& src, double ttl) {
  metrics_
      .counter("extdata_cache_refreshes_total", {{"source", entry->source}},
               "Upstream fetches by the cache")
      .inc();
  sources::FetchRequest request;
  request.variables = entry->variables;
  auto fetched = src->fetch(request);
  const auto now = clock_.now();
  if (fetched.ok()) {
    std::shared_ptr<const extract::RecordSet> records = std::move(fetched).value();
    {
      store::Snapshot snapshot;
      snapshot.key = store_key(*src, entry->key);
      snapshot.source = entry->source;
      snapshot.payload = records->to_json();
      snapshot.fetched_at = unix_seconds(now);
      snapshot.records = records->size();
      if (auto saved = store_.put_snapshot(snapshot); !saved.ok()) {
        log::warn("cache.snapshot_write_failed",
                  {{"entry", entry->key}, {"error", saved.error().to_string()}});
      }
    }
    memory::release_free_memory();
    record_status(entry->source, records->size(), nullptr);
    std::lock_guard lock(entry->mu);
    entry->records = std::move(records);
    entry->derived = std::make_shared<DerivedData>();
    entry->fetched_at = now;
    entry->error.reset();
    entry->retry_after = {};
    entry->snapshot_checked = true;
    entry->loading = false;
    entry->done.notify_all();
    return;
  }
  Error error = std::move(fetched).error();
  log::warn("cache.fetch_failed", {{"entry", entry->key}, {"error", error.to_string()}});
  record_status(entry->source, 0, &error);
  const auto backoff = std::min(std::chrono::duration<double>(options_.error_backoff),
                                std::chrono::duration<double>(ttl));
  std::lock_guard lock(entry->mu);
  entry->error = std::move(error);
  entry->retry_after = now + std::chrono::duration_cast<Clock::time_point::duration>(backoff);
  entry->loading = false;
  entry->done.notify_all();
}

void RecordCache::record_status(const std::string& source, size_t records, const Error* error) {
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
    status.last_error.clear();
    status.last_error_hint.clear();
  }
  if (auto saved = store_.put_status(status); !saved.ok()) {
    log::warn("cache.status_write_failed",
              {{"source", source}, {"error", saved.error().to_string()}});
  }
}

Result<RefreshReport> RecordCache::refresh(const std::string& source) {
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
    }
    fetch_into(entry, src, ttl);
    std::lock_guard lock(entry->mu);
    ++report.keys;
    if (entry->error) {
      report.errors.push_back(*entry->error);
    } else if (entry->records) {
      report.records += entry->records->size();
    }
  }
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
      last_scheduled_[name] = now;
    }
    options_.executor([this, name] {
      auto report = refresh(name);
      if (!report.ok()) log::warn("cache.scheduled_refresh_failed", {{"source", name}});
    });
  }
}

void RecordCache::invalidate(const std::string& source) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& item) { return item.second->source == source; });
  last_scheduled_.erase(source);
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
