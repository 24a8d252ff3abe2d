#include "sources/common/transport.h"

#include "core/log.h"
#include "sources/common/fetch_slots.h"

namespace extdata::sources {

http::CurlOptions curl_options(const config::SourceConfig& config) {
  http::CurlOptions options;
  const auto timeout = config.spec.find("timeout");
  if (timeout != config.spec.end() && timeout->is_number() && timeout->get<double>() > 0)
    options.total_timeout =
        std::chrono::milliseconds(static_cast<long long>(timeout->get<double>() * 1000));
  if (options.connect_timeout > options.total_timeout)
    options.connect_timeout = options.total_timeout;
  const auto ca = config.spec.find("ca_bundle");
  if (ca != config.spec.end() && ca->is_string() && !ca->get<std::string>().empty())
    options.ca_bundle = ca->get<std::string>();
  const auto redirects = config.spec.find("follow_redirects");
  if (redirects != config.spec.end() && redirects->is_string() && *redirects == "any")
    options.follow_redirects = http::CurlOptions::Redirects::any;
  options.metrics_label = config.name;
  return options;
}

std::shared_ptr<http::HttpClient> default_http_client(const config::SourceConfig& config,
                                                      Clock& clock, Metrics& metrics) {
  return std::make_shared<http::CurlHttpClient>(curl_options(config), &clock, &metrics);
}

namespace {

Error locate(Error e, const TransportOptions& options) {
  auto key = e.details.find("key");
  if (key == e.details.end()) return e;
  const std::string original = key->second;
  if (auto renamed = options.key_renames.find(original); renamed != options.key_renames.end())
    key->second = renamed->second;
  key->second = options.key_prefix + key->second;
  if (!options.key_prefix.empty() && e.message.rfind(original, 0) == 0)
    e.message = options.key_prefix + e.message;
  return e;
}

}  // namespace

Result<Transport> Transport::build(const config::SourceConfig& config, const SourceDeps& deps,
                                   TransportOptions options) {
  Transport t;
  t.http_ = deps.http_factory ? deps.http_factory(config)
                              : default_http_client(config, deps.clock, deps.metrics);
  if (!t.http_) return Error("source.http", "no HTTP client for source '" + config.name + "'");
  const nlohmann::json auth =
      options.auth.is_null() ? nlohmann::json{{"type", "none"}} : options.auth;
  auth::CredentialDeps cred_deps{*t.http_,           deps.clock,  deps.metrics, deps.token_cache,
                                 options.sharepoint, config.name, deps.grants};
  auto credential = auth::make_credential(auth, cred_deps);
  if (!credential.ok()) return locate(std::move(credential).error(), options);
  t.credential_ = std::move(credential).value();
  if (t.credential_->type() != "none")
    t.authenticated_ = std::make_unique<auth::AuthenticatedHttpClient>(*t.http_, t.credential_,
                                                                       deps.metrics, config.name);
  return t;
}

Result<std::shared_ptr<const extract::RecordSet>> count_fetch(
    Metrics& metrics, const std::string& source,
    const std::function<Result<std::shared_ptr<const extract::RecordSet>>()>& fetch) {
  metrics.counter("extdata_source_fetches_total", {{"source", source}}, "Source fetches").inc();
  auto slot = fetch_slots().acquire(source);
  auto result =
      slot.ok() ? fetch() : Result<std::shared_ptr<const extract::RecordSet>>(slot.error());
  if (!result.ok()) {
    const Error& e = result.error();
    metrics
        .counter("extdata_source_errors_total", {{"source", source}, {"code", e.code}},
                 "Failed source fetches by error code")
        .inc();
    log::warn("source.fetch_failed",
              {{"source", source}, {"code", e.code}, {"message", e.message}});
  }
  return result;
}

void report_sync(Metrics& metrics, const std::string& source, const SyncReport& report,
                 const FetchRequest& request) {
  metrics
      .counter("extdata_source_syncs_total",
               {{"source", source}, {"sync", report.incremental ? "incremental" : "full"}},
               "Syncs by kind: full reads, or incremental ones that applied changes only")
      .inc();
  if (request.sync) *request.sync = report;
}

}  // namespace extdata::sources
