#pragma once
// The HTTP API (/api/v1), health, metrics and the web UI's static files, on the
// shared Beast server layer. Handlers that may wait on an upstream run on a worker
// pool so network threads keep answering.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/runtime.h"
#include "server/http_server.h"

namespace extdata::api {

struct ApiOptions {
  server::ServerOptions server;
  int workers = 8;                     // threads for handlers that may block on upstreams
  bool anonymous_read = false;         // options/value endpoints without a token
  std::set<std::string> cors_origins;  // exact origins allowed to call the API from a browser
  std::string web_dir;                 // static files of the web UI ("" = none)
  // Where browsers reach this server (--public-url): the OAuth2 redirect URI is
  // <public_url>/oauth2/callback. Empty: the listening URL.
  std::string public_url;
};

class ApiServer {
 public:
  ApiServer(Runtime& runtime, ApiOptions options);
  ~ApiServer();
  Status start();
  // A graceful stop: no new connections, requests already handed to the worker pool finish
  // (their upstream fetches end early when process_shutdown() is cancelled), at most `grace`;
  // then stop(). True when every request finished in time.
  bool drain(std::chrono::milliseconds grace);
  void stop();
  void wait();
  std::string url() const;
  uint16_t port() const;

  // Exposed for tests: the request handler without sockets.
  void handle(const server::Request& request, server::Respond respond);

  // The route table as (method, path pattern, least role: "none" | "reader" | "admin"), so a
  // test can hold it against the OpenAPI document (openapi.h).
  struct RouteInfo {
    std::string method;
    std::string pattern;
    std::string role;
  };
  static std::vector<RouteInfo> route_table();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// core's error_document ({"ok": false, "error": {...}}) with the HTTP status of the error's
// category (core/error_codes.h).
server::Response error_response(const Error& error);

}  // namespace extdata::api
