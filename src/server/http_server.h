#pragma once
// The HTTP server layer shared by `extdata serve` and `extdata-graphsim`:
// Boost.Beast, asynchronous keep-alive connections on a small thread pool,
// optional TLS. Handlers answer through a callback so slow work can move to
// another thread without holding a network thread (see docs/architecture.md).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "http/http_client.h"

namespace extdata::server {

using http::Headers;

struct Request {
  std::string method;                                      // "GET", "POST" ...
  std::string target;                                      // as sent: path + query
  std::string path;                                        // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote_address;
  bool tls = false;

  std::optional<std::string> header(std::string_view name) const {
    return http::find_header(headers, name);
  }
  std::optional<std::string> query_param(std::string_view name) const;
  // "https://host:port" as the client addressed us (Host header), for absolute links.
  std::string base_url() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Fault injection (graphsim): wait before answering, or send part of the body and close.
  std::chrono::milliseconds delay{0};
  std::optional<size_t> close_after_body_bytes;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;

// Adapts a synchronous handler.
Handler sync_handler(std::function<Response(const Request&)> fn);

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};
  std::optional<std::string> tls_cert_file;  // PEM; both set → https
  std::optional<std::string> tls_key_file;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the worker threads; returns once the socket listens.
  Status start();
  // A graceful end before stop(): closes the listening socket, answers every request already
  // read (later answers close their connection), and returns once all are written or `grace`
  // has passed — true when all were written.
  bool drain(std::chrono::milliseconds grace);
  // Stops accepting, closes connections and joins the threads.
  void stop();
  // Blocks until stop() is called (from a signal handler thread or another thread).
  void wait();

  uint16_t port() const;
  std::string host() const;
  // "http://127.0.0.1:PORT" or "https://…".
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding for paths and query strings ('+' → space only in queries).
std::string percent_decode(std::string_view in, bool plus_is_space);
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// One raw HTTP/1.x request read as a connection reads it (body and header limits, the target
// check): the Request for the handler, or the Response the transport answers itself (400,
// 413). For fuzzing and tests without sockets.
std::variant<Request, Response> read_raw_request(std::string_view bytes,
                                                 const ServerOptions& options);

// Why a request target is refused (400 before any handler runs), or nullopt: it must be in
// origin form ("/path?query") and its path may not hold NUL, raw or percent-encoded.
std::optional<std::string> target_problem(std::string_view target);

}  // namespace extdata::server
