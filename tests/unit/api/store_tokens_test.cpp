// The token cache shared by instances on one store: one token request per credential.
#include "api/store_tokens.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

namespace extdata::api {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Time moves only when the test says so; an instance waiting for another's token request
// only yields the thread.
class PollingClock final : public Clock {
 public:
  time_point now() const override { return inner_.now(); }
  void sleep_for(std::chrono::milliseconds) override { std::this_thread::yield(); }

 private:
  ManualClock inner_;
};

class StoreTokensTest : public ::testing::Test {
 protected:
  struct Instance {
    std::unique_ptr<store::Store> store;
    Metrics metrics;
    auth::TokenCache cache;
    Instance(const fs::path& dir, Clock& clock, const std::string& holder) : cache(clock) {
      store = std::move(store::open_sqlite_store(dir.string())).value();
      cache.share(std::make_shared<StoreTokens>(*store, clock, metrics, holder));
    }
  };

  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    dir_ = fs::temp_directory_path() / ("extdata-tokens-" + std::to_string(std::random_device{}()));
    a_ = std::make_unique<Instance>(dir_, clock_, "instance-a");
    b_ = std::make_unique<Instance>(dir_, clock_, "instance-b");
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    fs::remove_all(dir_);
  }

  auth::Token token(const std::string& value) {
    return {value, "Bearer", clock_.now(), clock_.now() + 1h, ""};
  }

  PollingClock clock_;
  fs::path dir_;
  std::unique_ptr<Instance> a_, b_;
  std::atomic<int> requests_{0};
};

TEST_F(StoreTokensTest, ATokenOneInstanceFetchedIsUsedByTheOtherWithoutARequest) {
  auth::TokenCache::Outcome outcome{};
  auto first = a_->cache.get(
      "cred", [&] { return Result<auth::Token>(token("tok-1")); }, &outcome);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(outcome, auth::TokenCache::Outcome::fetched);
  auto second = b_->cache.get(
      "cred",
      [&] {
        ++requests_;
        return Result<auth::Token>(token("tok-2"));
      },
      &outcome);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->access_token, "tok-1");
  EXPECT_EQ(outcome, auth::TokenCache::Outcome::shared);
  EXPECT_EQ(requests_.load(), 0);
  EXPECT_EQ(second->expires_at, first->expires_at);
}

TEST_F(StoreTokensTest, WhileOneInstanceAsksTheEndpointTheOtherWaitsForItsToken) {
  std::promise<void> asked, answer;
  auto answered = answer.get_future().share();
  std::thread leader([&] {
    auto got = a_->cache.get("cred", [&] {
      ++requests_;
      asked.set_value();
      answered.wait();
      return Result<auth::Token>(token("tok-a"));
    });
    EXPECT_TRUE(got.ok());
  });
  asked.get_future().wait();
  auto follower = std::async(std::launch::async, [&] {
    return b_->cache.get("cred", [&] {
      ++requests_;
      return Result<auth::Token>(token("tok-b"));
    });
  });
  EXPECT_EQ(follower.wait_for(50ms), std::future_status::timeout) << "b waits for a's request";
  answer.set_value();
  leader.join();
  auto got = follower.get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->access_token, "tok-a");
  EXPECT_EQ(requests_.load(), 1);
  EXPECT_EQ(
      a_->metrics.counter_value("extdata_cluster_lease_acquired_total", {{"purpose", "token"}}), 1);
}

TEST_F(StoreTokensTest, ATokenARefusedIsDroppedForEveryInstance) {
  ASSERT_TRUE(a_->cache.get("cred", [&] { return Result<auth::Token>(token("tok-1")); }).ok());
  b_->cache.invalidate("cred", "tok-1");
  auto again = a_->store->get_shared_token("cred", 0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(StoreTokensTest, InstanceIdsDifferPerProcessStart) {
  EXPECT_NE(new_instance_id(), new_instance_id());
}

}  // namespace
}  // namespace extdata::api
