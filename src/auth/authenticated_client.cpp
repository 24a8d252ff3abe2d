#include "auth/authenticated_client.h"

#include "core/log.h"

namespace extdata::auth {

AuthenticatedHttpClient::AuthenticatedHttpClient(http::HttpClient& base,
                                                 std::shared_ptr<Credential> credential,
                                                 Metrics& metrics, std::string source_name)
    : base_(base),
      credential_(std::move(credential)),
      metrics_(metrics),
      source_(std::move(source_name)) {}

Result<http::Response> AuthenticatedHttpClient::send(const http::Request& request) {
  http::Request first = request;
  EXTDATA_TRY(credential_->apply(first));
  auto response = base_.send(first);
  if (!response.ok() || response->status != 401) return response;
  if (!credential_->on_unauthorized(first, *response)) return response;

  metrics_
      .counter("extdata_auth_retries_total", {{"source", source_}},
               "Requests retried with a fresh token after a 401")
      .inc();
  log::info("auth.retry_after_401",
            {{"source", source_},
             {"www_authenticate", response->header("WWW-Authenticate").value_or("")}});
  http::Request second = request;
  EXTDATA_TRY(credential_->apply(second));
  auto retried = base_.send(second);
  if (retried.ok()) retried->attempts += response->attempts;
  return retried;
}

}  // namespace extdata::auth
