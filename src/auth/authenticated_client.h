#pragma once
// An HttpClient that adds a source's credential to every request and, when the resource
// answers 401, drops the cached token, applies a fresh one and retries once.
#include <memory>

#include "auth/credential.h"
#include "core/metrics.h"
#include "http/http_client.h"

namespace extdata::auth {

class AuthenticatedHttpClient final : public http::HttpClient {
 public:
  // `base` and `metrics` must outlive this client.
  AuthenticatedHttpClient(http::HttpClient& base, std::shared_ptr<Credential> credential,
                          Metrics& metrics, std::string source_name);

  // Errors from the credential (e.g. a failed token request) come back as they are; a
  // second 401 is returned as the response.
  Result<http::Response> send(const http::Request& request) override;

  Credential& credential() { return *credential_; }

 private:
  http::HttpClient& base_;
  std::shared_ptr<Credential> credential_;
  Metrics& metrics_;
  std::string source_;
};

}  // namespace extdata::auth
