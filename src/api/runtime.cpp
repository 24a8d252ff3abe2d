#include "api/runtime.h"

#include "api/oauth_connect.h"
#include "api/store_tokens.h"
#include "auth/diagnostics.h"
#include "config/config.h"
#include "core/log.h"
#include "core/time.h"

namespace extdata::api {

using nlohmann::json;

namespace {

sources::SourceDeps make_deps(Clock& clock, Metrics& metrics) {
  return sources::SourceDeps{
      .clock = clock,
      .metrics = metrics,
      .token_cache = std::make_shared<auth::TokenCache>(clock),
      .http_factory =
          [&clock, &metrics](const config::SourceConfig& c) {
            return sources::default_http_client(c, clock, metrics);
          },
  };
}

}  // namespace

Runtime::Runtime(std::unique_ptr<store::Store> store, Clock& clock, Metrics& metrics,
                 cache::CacheOptions cache_options, size_t rendered_options_bytes)
    : store_(std::move(store)), clock_(clock), metrics_(metrics), deps_(make_deps(clock, metrics)) {
  deps_.grants = std::make_shared<StoreGrants>(*store_);
  if (!cache_options.cluster.holder.empty())
    deps_.token_cache->share(
        std::make_shared<StoreTokens>(*store_, clock_, metrics_, cache_options.cluster.holder));
  cache::SourceLookup lookup = [this](const std::string& name) -> std::shared_ptr<sources::Source> {
    auto src = source(name);
    return src.ok() ? *src : nullptr;
  };
  if (!cache_options.after_refresh)
    cache_options.after_refresh = [this](const std::string& source) { sync_targets_of(source); };
  cache_ = std::make_unique<cache::RecordCache>(*store_, lookup, clock_, metrics_,
                                                std::move(cache_options));
  fields_ = std::make_unique<fields::FieldService>(*store_, lookup, *cache_, metrics_,
                                                   rendered_options_bytes);
  // A target's refetch before an on-demand sync: a failed fetch stops the sync (stale
  // options are not pushed), and it does not trigger the after-refresh sync of the targets.
  targets::Refetch refetch = [this](const std::string& source) -> Status {
    EXTDATA_ASSIGN_OR_RETURN(auto report, cache_->refresh(source, /*notify=*/false));
    if (!report.errors.empty()) return report.errors.front();
    return ok_status();
  };
  targets_ =
      std::make_unique<targets::TargetService>(*store_, *fields_, deps_, clock_, std::move(refetch));
  if (auto version = store_->external_change_count(); version.ok()) seen_store_version_ = *version;
}

Runtime::~Runtime() {
  // The cache's background refreshes use the sources (and sync targets): stop it first.
  std::unique_ptr<targets::TargetService> targets;
  {
    std::lock_guard lock(mu_);
    targets = std::move(targets_);
  }
  cache_.reset();
  targets.reset();
  fields_.reset();
}

void Runtime::sync_targets_of(const std::string& source) {
  targets::TargetService* targets;
  {
    std::lock_guard lock(mu_);
    targets = targets_.get();
  }
  if (!targets) return;  // shutting down
  for (const auto& name : targets->targets_of_source(source)) {
    auto report = targets->sync(name);
    if (!report.ok())
      log::warn("target.sync_failed", {{"target", name}, {"error", report.error().message}});
    else if (report->error)
      log::warn("target.sync_failed", {{"target", name}, {"error", report->error->message}});
  }
}

void Runtime::source_changed(const std::string& name) {
  forget_source(name);
  cache_->invalidate(name);
  fields_->reload();
}

Result<std::shared_ptr<sources::Source>> Runtime::source(const std::string& name) {
  // Every options request passes here: answer from memory, the store only on first use.
  std::uint64_t generation;
  {
    std::lock_guard lock(mu_);
    if (auto it = sources_.find(name); it != sources_.end()) return it->second.second;
    generation = forgotten_;
  }
  EXTDATA_ASSIGN_OR_RETURN(auto cfg, store_->get_source(name));
  if (!cfg) return source_not_found(*store_, name);
  EXTDATA_ASSIGN_OR_RETURN(auto built, sources::make_source(*cfg, deps_));
  std::lock_guard lock(mu_);
  // A config read before a concurrent change must not be kept: use it for this call only.
  if (generation != forgotten_) return built;
  auto& slot = sources_[name];
  if (!slot.second) slot = {cfg->spec.dump(), std::move(built)};  // a concurrent build won
  return slot.second;
}

nlohmann::json Runtime::status_of(const std::string& name) {
  nlohmann::json out;
  if (auto st = store_->get_status(name); st.ok() && st->has_value()) out = status_json(**st);
  std::shared_ptr<sources::Source> built;
  {
    std::lock_guard lock(mu_);
    if (auto it = sources_.find(name); it != sources_.end()) built = it->second.second;
  }
  if (auto credential = built ? built->credential() : nullptr)
    if (auto expiry = credential->cached_token_expiry())
      out["token_expires_at"] = unix_seconds(*expiry);
  return out;
}

void Runtime::sync_with_store() {
  auto version = store_->external_change_count();
  if (!version.ok() || *version == seen_store_version_) return;
  seen_store_version_ = *version;
  std::vector<std::pair<std::string, std::string>> built;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, entry] : sources_) built.emplace_back(name, entry.first);
  }
  for (const auto& [name, spec] : built) {
    auto stored = store_->get_source(name);
    if (!stored.ok()) continue;  // try again after the next change
    if (!*stored || (*stored)->spec.dump() != spec) source_changed(name);
  }
  fields_->reload_changed();
}

void Runtime::forget_source(const std::string& name) {
  std::lock_guard lock(mu_);
  sources_.erase(name);
  ++forgotten_;
}

Status check_source(const config::SourceConfig& config) {
  static ManualClock clock;  // nothing is fetched: construction only
  static Metrics metrics;
  static const sources::SourceDeps deps = make_deps(clock, metrics);
  auto built = sources::make_source(config, deps);
  if (!built.ok()) return std::move(built).error();
  return ok_status();
}

Error source_not_found(store::Store& store, const std::string& name) {
  std::vector<std::string> names;
  if (auto list = store.list_sources(); list.ok())
    for (const auto& s : *list) names.push_back(s.name);
  auto near = config::closest_match(name, names);
  return Error("source.not_found", "no source named '" + name + "'",
               near ? "Did you mean '" + *near + "'?" : "See: extdata source list");
}

Error field_not_found(store::Store& store, const std::string& name) {
  std::vector<std::string> names;
  if (auto list = store.list_fields(); list.ok())
    for (const auto& f : *list) names.push_back(f.name);
  auto near = config::closest_match(name, names);
  return Error("field.not_found", "no field named '" + name + "'",
               near ? "Did you mean '" + *near + "'?" : "See: extdata field list");
}

json source_warnings(Runtime& runtime, const std::string& name) {
  json out = json::array();
  auto src = runtime.source(name);
  if (!src.ok()) return out;
  if (auto cred = (*src)->credential()) {
    for (auto& w : auth::expiry_warnings(*cred, runtime.clock().now())) out.push_back(w);
    if (auto user = auth::UserOAuth2Credential::of(cred))
      for (const auto& note : user->config().notes) out.push_back(note);
    auth::update_expiry_gauge(runtime.metrics(), name, *cred, runtime.clock().now());
  }
  for (auto& w : (*src)->static_warnings()) out.push_back(w);
  return out;
}

json sync_json(const store::SyncStatus& s) {
  json out = {{"mode", s.mode},
              {"last_full_at", s.last_full_at},
              {"last_full_records", s.last_full_records}};
  if (s.last_incremental_at != 0)
    out["last_incremental"] = {{"at", s.last_incremental_at},
                               {"added", s.last_added},
                               {"updated", s.last_updated},
                               {"removed", s.last_removed}};
  if (!s.note.empty()) out["note"] = s.note;
  return out;
}

json status_json(const store::SourceStatus& st) {
  json out = {{"last_fetch_at", st.last_fetch_at},
              {"last_success_at", st.last_success_at},
              {"records", st.records}};
  if (!st.last_error.empty())
    out["last_error"] = {{"message", st.last_error}, {"hint", st.last_error_hint}};
  if (!st.sync.mode.empty()) out["sync"] = sync_json(st.sync);
  return out;
}

}  // namespace extdata::api
