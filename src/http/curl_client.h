#pragma once
// HttpClient over libcurl: connection reuse per host, timeouts, response size cap,
// safe redirects, proxies from the environment, TLS verification, retries with
// backoff honouring Retry-After, and counters.
//
// Every connection is checked against the network policy (network_policy.h) on the address
// libcurl is about to connect to, for the first request and for every redirect hop; a refused
// address ends the request with "network.blocked" (never retried).
//
// Redirects are followed by this client (libcurl's own following is off). One to another
// origin (scheme, host, port) is refused unless follow_redirects is `any`; when it is followed,
// every header the caller set except the content-negotiation ones (Accept, Accept-Language,
// Content-Type) and the HTTP auth username/password stay behind: credentials and a source's
// headers are bound to the origin the request was made for, whatever their names. A 307/308
// that would resend a request body to another origin is refused.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/shutdown.h"
#include "http/http_client.h"
#include "http/network_policy.h"
#include "http/retry.h"

namespace extdata::http {

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
  size_t max_response_bytes = 256u << 20;
  int max_redirects = 5;
  bool verify_tls = true;
  std::optional<std::string> ca_bundle;  // PEM file with extra trusted CAs (replaces the default)
  RetryPolicy retry;
  std::string user_agent = "extdata/0.1";
  // Label for counters (e.g. the source name).
  std::string metrics_label = "default";
  // The network policy; null: NetworkPolicy::process() as it is at each request.
  std::shared_ptr<const NetworkPolicy> policy;
  enum class Redirects { same_origin, any };
  Redirects follow_redirects = Redirects::same_origin;
  // libcurl resolve overrides, "host:port:address" (CURLOPT_RESOLVE); tests use them to make a
  // name resolve to a chosen address.
  std::vector<std::string> resolve;
  // Transfers abort (http.cancelled) and no retry starts once this is cancelled.
  const CancelSignal* cancel = &process_shutdown();
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options = {}, Clock* clock = nullptr,
                          Metrics* metrics = nullptr);
  ~CurlHttpClient() override;

  Result<Response> send(const Request& request) override;

  const CurlOptions& options() const { return options_; }

 private:
  Result<Response> send_once(const Request& request);

  CurlOptions options_;
  Clock* clock_;
  Metrics* metrics_;
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// Percent-encodes for a URL query value / form value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view value);
// Builds an application/x-www-form-urlencoded body.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace extdata::http
