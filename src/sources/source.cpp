#include "sources/source.h"

#include "http/curl_client.h"

namespace extdata::sources {

std::shared_ptr<http::HttpClient> default_http_client(const config::SourceConfig& config,
                                                      Clock& clock, Metrics& metrics) {
  http::CurlOptions options;
  const double timeout = config.spec.value("timeout", 60.0);
  options.total_timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
  if (options.connect_timeout > options.total_timeout)
    options.connect_timeout = options.total_timeout;
  if (config.spec.contains("ca_bundle") && config.spec["ca_bundle"].is_string()) {
    options.ca_bundle = config.spec["ca_bundle"].get<std::string>();
  }
  options.metrics_label = config.name;
  return std::make_shared<http::CurlHttpClient>(std::move(options), &clock, &metrics);
}

}  // namespace extdata::sources
