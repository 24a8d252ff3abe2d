#pragma once
// TargetService: runs the targets of the store (`targets:` of a config document) — today the
// one type jira-field-options — and keeps each target's state in the store: the mapping of
// extdata values to Jira option ids, and what its last sync did (when, counts, problems,
// error), which `GET /api/v1/targets` and the sources page show.
//
//   TargetService targets(store, fields, source_deps, clock);
//   auto report = targets.sync("jira-customer", {.dry_run = true});
//   to_json(*report)  // {"target","ok","dry_run","counts":{created,updated,disabled,deleted,
//                     //   enabled,unchanged},"problems":[…],"requests","seconds",["error"]}
//
// A sync reads every option of the field (all contexts' options are not needed: the field
// declares none) and every option of the Jira context, plans (jira/option_sync.h) and, unless
// dry_run, writes. Errors that stop a sync (401, 403, 404 with the field's contexts listed,
// 429 after the HTTP client's retries honouring Retry-After) are in the report, not a failed
// Result; a Result error means the target cannot run at all (unknown target or field).
// Syncs of one target run one at a time (a mutex per service).
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "fields/field_service.h"
#include "sources/source.h"
#include "store/store.h"
#include "targets/jira/option_sync.h"

namespace extdata::targets {

struct SyncOptions {
  bool dry_run = false;
  // Refetch the field's source first (on demand: `target sync`, POST …/sync), so what is
  // pushed is what the upstream holds now; false after a refresh, which just did.
  bool refetch = false;
};

// Refetches a source's records (RecordCache::refresh without its after-refresh hook).
using Refetch = std::function<Status(const std::string& source)>;

struct SyncReport {
  std::string target;
  bool dry_run = false;
  std::string context_id;
  jira::Counts counts;
  std::vector<jira::OptionProblem> problems;
  std::optional<Error> error;
  size_t requests = 0;  // HTTP requests sent to Jira
  size_t writes = 0;    // POST, PUT and DELETE among them
  double seconds = 0;
  std::int64_t finished_at = 0;  // Unix seconds
  bool ok() const { return !error; }
};

nlohmann::json to_json(const SyncReport& report);

class TargetService {
 public:
  TargetService(store::Store& store, fields::FieldService& fields, sources::SourceDeps deps,
                Clock& clock, Refetch refetch = {});

  Result<SyncReport> sync(const std::string& name, const SyncOptions& options = {});
  // Every target with its last sync ({"name","type","field","last_sync"}), secrets masked.
  Result<nlohmann::json> list();
  // The targets whose field reads `source` (synced after each refresh of the source).
  std::vector<std::string> targets_of_source(const std::string& source);

 private:
  Result<SyncReport> sync_jira(const config::TargetConfig& target, const SyncOptions& options);
  // The field's options as the target should hold them (after refetching the field's source
  // when `options.refetch`).
  Result<std::vector<jira::Wanted>> wanted_options(const config::TargetConfig& target,
                                                   const SyncOptions& options);

  store::Store& store_;
  fields::FieldService& fields_;
  sources::SourceDeps deps_;
  Clock& clock_;
  Refetch refetch_;
  std::mutex mu_;
};

// "no target named 'x'" with a did-you-mean from the store.
Error target_not_found(store::Store& store, const std::string& name);

}  // namespace extdata::targets
