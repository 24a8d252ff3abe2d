#pragma once
// The HTTP transport seam. Sources and credentials talk to upstreams through
// HttpClient; tests inject fakes, production uses CurlHttpClient (curl_client.h).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace extdata::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match wins.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
void set_header(Headers& headers, std::string name, std::string value);  // replaces

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // Overrides the client's total timeout when set.
  std::optional<std::chrono::milliseconds> timeout;
  // Username/password for HTTP auth schemes libcurl implements itself (NTLM, Basic).
  struct HttpAuth {
    enum class Scheme { basic, ntlm } scheme = Scheme::basic;
    std::string user;
    std::string password;
  };
  std::optional<HttpAuth> http_auth;
  // A request marked not idempotent is never retried after it may have reached the server.
  bool retryable = true;
};

struct Response {
  long status = 0;
  Headers headers;
  std::string body;
  std::string effective_url;
  std::chrono::microseconds elapsed{0};
  int attempts = 1;  // including retries
  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// Error codes a client returns (Error::code):
//   http.connect      could not connect / DNS / TLS handshake
//   http.timeout      connect or total timeout
//   http.too_large    body exceeded max_response_bytes
//   http.tls          certificate verification failed
//   http.redirect     too many redirects or a refused redirect
//   http.transfer     connection dropped mid-body and similar
//   http.bad_url      URL could not be parsed / unsupported scheme
// An HTTP status >= 400 is NOT an error at this layer: it is a Response
// (after retries for 429/502/503/504 are exhausted).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<Response> send(const Request& request) = 0;
};

}  // namespace extdata::http
