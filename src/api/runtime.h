#pragma once
// The process-wide wiring of extdata: store, clock, metrics, token cache and the
// source instances built from stored configs. The CLI and the HTTP API both run on it,
// so a command and an endpoint behave the same.
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/oauth2/token_cache.h"
#include "cache/record_cache.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "fields/field_service.h"
#include "sources/source.h"
#include "store/store.h"
#include "targets/target_service.h"

namespace extdata::api {

class Runtime {
 public:
  Runtime(std::unique_ptr<store::Store> store, Clock& clock, Metrics& metrics,
          cache::CacheOptions cache_options = {},
          size_t rendered_options_bytes = fields::kDefaultRenderedOptionsBytes);
  ~Runtime();

  store::Store& store() { return *store_; }
  Clock& clock() { return clock_; }
  Metrics& metrics() { return metrics_; }
  const sources::SourceDeps& source_deps() const { return deps_; }
  cache::RecordCache& cache() { return *cache_; }
  fields::FieldService& fields() { return *fields_; }
  targets::TargetService& targets() { return *targets_; }

  // After a source's config changed or it was deleted: rebuild it, drop its records.
  void source_changed(const std::string& name);

  // The live source for a stored config (built once, rebuilt after the config changes).
  Result<std::shared_ptr<sources::Source>> source(const std::string& name);
  // Drops the built instance (after put/delete) so the next call rebuilds it.
  void forget_source(const std::string& name);

  // The source's last fetch (store) and, when its credential holds a token, the token's
  // expiry ("token_expires_at", Unix seconds); null when there is neither. Builds nothing.
  nlohmann::json status_of(const std::string& name);

  // Picks up configuration another process committed (`extdata apply` next to a running
  // server): sources whose stored spec changed or vanished are rebuilt and their records
  // dropped, fields recompiled. Cheap when nothing changed; the server calls it every 250 ms.
  void sync_with_store();

 private:
  std::unique_ptr<store::Store> store_;
  Clock& clock_;
  Metrics& metrics_;
  sources::SourceDeps deps_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<sources::Source>>>
      sources_;                  // name → (spec, source)
  std::uint64_t forgotten_ = 0;  // bumped by forget_source: builds begun before are not kept
  std::int64_t seen_store_version_ = -1;
  std::unique_ptr<cache::RecordCache> cache_;
  std::unique_ptr<fields::FieldService> fields_;
  std::unique_ptr<targets::TargetService> targets_;

  // After a refresh of `source`: syncs the targets whose field reads it.
  void sync_targets_of(const std::string& source);
};

// Builds a source from a config without network access, to validate what the schema
// cannot (templates, JSONPaths, site URLs, certificates).
Status check_source(const config::SourceConfig& config);

// "no source named 'x'" with a did-you-mean from the store.
Error source_not_found(store::Store& store, const std::string& name);
Error field_not_found(store::Store& store, const std::string& name);

// Warnings known without fetching (secret / certificate expiry), as a JSON array of strings.
nlohmann::json source_warnings(Runtime& runtime, const std::string& name);
nlohmann::json status_json(const store::SourceStatus& status);
// {"mode", "last_full_at", "last_full_records", "last_incremental": {at, added, updated,
//  removed}, "note"}: how the source syncs and what its last syncs did.
nlohmann::json sync_json(const store::SyncStatus& sync);

}  // namespace extdata::api
