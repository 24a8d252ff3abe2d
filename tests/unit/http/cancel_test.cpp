// Issue 15, row 11: SIGTERM must stop the server even while an upstream hangs. The client's
// transfers and retries end when their CancelSignal is cancelled (the server cancels
// process_shutdown(); these tests use their own signal so the process goes on).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/shutdown.h"
#include "http/curl_client.h"
#include "unit/sources_rest/scripted_server.h"

namespace extdata::http {
namespace {

// Accepts connections and never answers: the hanging upstream.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() {
    if (client_ >= 0) ::close(client_);
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/items"; }
  // Blocks until the client has connected (the request is then in flight).
  void accept_one() { client_ = ::accept(fd_, nullptr, nullptr); }

 private:
  int fd_ = -1, client_ = -1;
  uint16_t port_ = 0;
};

TEST(CancelSignal, WaitEndsWhenCancelledFromAnotherThread) {
  CancelSignal signal;
  EXPECT_TRUE(signal.wait_for(std::chrono::milliseconds(1)));
  auto waiter =
      std::async(std::launch::async, [&] { return signal.wait_for(std::chrono::hours(1)); });
  signal.cancel();
  EXPECT_FALSE(waiter.get());
  EXPECT_TRUE(signal.cancelled());
  EXPECT_FALSE(signal.wait_for(std::chrono::hours(1)));  // stays cancelled
}

TEST(CurlCancel, AHangingTransferEndsSoonAfterCancel) {
  SilentServer upstream;
  CancelSignal stopping;
  CurlHttpClient client(CurlOptions{.total_timeout = std::chrono::minutes(10),
                                    .retry = {.max_attempts = 5},
                                    .cancel = &stopping});
  auto sent = std::async(std::launch::async, [&] { return client.send({.url = upstream.url()}); });
  upstream.accept_one();
  const auto cancelled_at = std::chrono::steady_clock::now();
  stopping.cancel();
  auto r = sent.get();
  const auto took = std::chrono::steady_clock::now() - cancelled_at;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.cancelled");
  EXPECT_EQ(r.error().category(), ErrorCategory::upstream_unavailable);
  EXPECT_LT(took, std::chrono::seconds(5));  // libcurl asks about once a second
}

// Cancelled during a retry's back-off: the next attempt is never sent.
class CancellingClock final : public Clock {
 public:
  explicit CancellingClock(CancelSignal& signal) : signal_(signal) {}
  time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds) override { signal_.cancel(); }

 private:
  CancelSignal& signal_;
};

TEST(CurlCancel, NoRetryStartsAfterCancel) {
  testing::RecordingServer upstream([](int, const server::Request&) {
    return testing::with_header(server::Response::json(503, "{}"), "Retry-After", "120");
  });
  CancelSignal stopping;
  CancellingClock clock(stopping);
  CurlHttpClient client(CurlOptions{.retry = {.max_attempts = 5}, .cancel = &stopping}, &clock);
  auto r = client.send({.url = upstream.url("/items")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "http.cancelled");
  EXPECT_EQ(upstream.received().size(), 1u);
}

}  // namespace
}  // namespace extdata::http
