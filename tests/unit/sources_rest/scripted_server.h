#pragma once
// A loopback server whose answers are scripted per request, recording what it received.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "server/http_server.h"

namespace extdata::testing {

class RecordingServer {
 public:
  using Script = std::function<server::Response(int n, const server::Request&)>;
  explicit RecordingServer(Script script)
      : script_(std::move(script)),
        server_({.listen = "127.0.0.1:0", .threads = 1, .max_body_bytes = 1 << 20},
                server::sync_handler([this](const server::Request& req) {
                  int n;
                  {
                    std::lock_guard lock(mu_);
                    received_.push_back(req);
                    n = static_cast<int>(received_.size());
                  }
                  return script_(n, req);
                })) {
    auto s = server_.start();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  std::string url(const std::string& path = "") const { return server_.url() + path; }
  std::vector<server::Request> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<std::string> targets() {
    std::vector<std::string> out;
    for (const auto& r : received()) out.push_back(r.target);
    return out;
  }

 private:
  Script script_;
  std::mutex mu_;
  std::vector<server::Request> received_;
  server::HttpServer server_;
};

inline server::Response with_header(server::Response r, std::string k, std::string v) {
  r.headers.emplace_back(std::move(k), std::move(v));
  return r;
}

}  // namespace extdata::testing
