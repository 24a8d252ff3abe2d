// The store's cluster coordination: leases with fencing tokens and the shared token cache.
// Two Store objects on one data directory (or PostgreSQL database) stand for two `extdata
// serve` processes; every test runs on both backends (store_backends.h).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "store/store.h"
#include "unit/store/store_backends.h"

namespace extdata::store::testing {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;  // unix ms
constexpr std::int64_t kTtl = 30'000;

class ClusterStoreTest : public BackendFixture {
 protected:
  void SetUp() override {
    BackendFixture::SetUp();
    if (HasFatalFailure()) return;
    a_ = open_store();
    b_ = open_store();
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    BackendFixture::TearDown();
  }
  std::unique_ptr<Store> open_store() {
    auto store = open();
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<Store> a_, b_;
};

TEST_P(ClusterStoreTest, ALeaseHasOneHolderUntilItExpiresAndEachNewAcquisitionATokenHigher) {
  auto first = a_->acquire_lease("sync:crm|", "instance-a", kT0, kTtl);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->holder, "instance-a");
  EXPECT_EQ((*first)->token, 1);
  EXPECT_EQ((*first)->expires_at_ms, kT0 + kTtl);

  auto refused = b_->acquire_lease("sync:crm|", "instance-b", kT0 + kTtl - 1, kTtl);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->has_value()) << "instance-a's lease has not expired";

  auto taken = b_->acquire_lease("sync:crm|", "instance-b", kT0 + kTtl, kTtl);
  ASSERT_TRUE(taken.ok() && taken->has_value()) << "expired at expires_at_ms";
  EXPECT_EQ((*taken)->holder, "instance-b");
  EXPECT_EQ((*taken)->token, 2);

  auto back = a_->acquire_lease("sync:crm|", "instance-a", kT0 + 3 * kTtl, kTtl);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->token, 3);

  auto other = b_->acquire_lease("sync:hr|", "instance-b", kT0, kTtl);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->token, 1) << "tokens count per name";
}

TEST_P(ClusterStoreTest, TheHolderRenewsItsLeaseKeepingItsTokenEvenPastExpiryIfNobodyTookIt) {
  ASSERT_TRUE(a_->acquire_lease("sync:crm|", "instance-a", kT0, kTtl)->has_value());
  auto renewed = a_->acquire_lease("sync:crm|", "instance-a", kT0 + 10'000, kTtl);
  ASSERT_TRUE(renewed.ok() && renewed->has_value());
  EXPECT_EQ((*renewed)->token, 1);
  EXPECT_EQ((*renewed)->expires_at_ms, kT0 + 10'000 + kTtl);
  EXPECT_FALSE(*b_->acquire_lease("sync:crm|", "instance-b", kT0 + kTtl + 1, kTtl))
      << "the renewal moved the expiry";

  auto late = a_->acquire_lease("sync:crm|", "instance-a", kT0 + 5 * kTtl, kTtl);
  ASSERT_TRUE(late.ok() && late->has_value());
  EXPECT_EQ((*late)->token, 1) << "nobody else acquired it meanwhile";
}

TEST_P(ClusterStoreTest, AReleasedLeaseIsFreeAtOnceAndOnlyItsHolderCanReleaseIt) {
  ASSERT_TRUE(a_->acquire_lease("sync:crm|", "instance-a", kT0, kTtl)->has_value());
  EXPECT_FALSE(*b_->release_lease("sync:crm|", "instance-b"));
  EXPECT_FALSE(*b_->acquire_lease("sync:crm|", "instance-b", kT0 + 1, kTtl));
  EXPECT_TRUE(*a_->release_lease("sync:crm|", "instance-a"));
  auto stored = b_->get_lease("sync:crm|");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->holder, "");
  EXPECT_EQ((*stored)->token, 1) << "the token is kept for the next acquisition";

  auto next = b_->acquire_lease("sync:crm|", "instance-b", kT0 + 2, kTtl);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->token, 2);
  EXPECT_FALSE(*b_->get_lease("never-acquired"));
}

TEST_P(ClusterStoreTest, OfManyConcurrentAcquirersOnTwoConnectionsExactlyOneHoldsTheLease) {
  std::atomic<int> holders{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      Store& store = i % 2 ? *a_ : *b_;
      auto got = store.acquire_lease("token:k", "instance-" + std::to_string(i), kT0, kTtl);
      ASSERT_TRUE(got.ok()) << got.error().message;
      if (got->has_value()) ++holders;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(holders.load(), 1);
  EXPECT_EQ((*a_->get_lease("token:k"))->token, 1);
}

TEST_P(ClusterStoreTest, AWriteUnderAStaleFenceIsRefusedAndTheNewHoldersSnapshotStays) {
  const auto old_lease = **a_->acquire_lease("sync:crm|", "instance-a", kT0, kTtl);
  const auto new_lease = **b_->acquire_lease("sync:crm|", "instance-b", kT0 + kTtl, kTtl);
  const Fence current{"sync:crm|", new_lease.token};
  const Fence stale{"sync:crm|", old_lease.token};

  ASSERT_TRUE(b_->put_snapshot({"crm|", "crm", "[new]", 200, 1}, current).ok());
  auto refused = a_->put_snapshot({"crm|", "crm", "[old]", 100, 1}, stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "store.fenced");
  auto pieces = a_->put_snapshot_pieces(
      {"crm|", "crm", "", 100, 1}, [](const Store::PieceSink& sink) { return sink("[old]"); },
      stale);
  ASSERT_FALSE(pieces.ok());
  EXPECT_EQ(pieces.error().code, "store.fenced");
  EXPECT_EQ((*a_->get_snapshot("crm|"))->payload, "[new]");
  auto info = a_->get_snapshot_info("crm|");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->fetched_at, 200);
  EXPECT_EQ((*info)->payload, "") << "the payload is not read";
  EXPECT_FALSE(*a_->get_snapshot_info("nothing|"));

  ASSERT_TRUE(b_->put_status({"crm", 200, 200, 1, "", ""}, current).ok());
  auto status = a_->put_status({"crm", 100, 0, 0, "old error", ""}, stale);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "store.fenced");
  EXPECT_EQ((*a_->get_status("crm"))->last_error, "");

  auto unknown = a_->put_snapshot({"hr|", "hr", "[]", 1, 0}, Fence{"sync:hr|", 1});
  EXPECT_FALSE(unknown.ok()) << "a fence naming a lease never acquired is stale";
  EXPECT_TRUE(a_->put_snapshot({"hr|", "hr", "[]", 1, 0}).ok()) << "unfenced writes still work";
}

TEST_P(ClusterStoreTest, AFenceStaysValidAfterExpiryUntilSomeoneElseAcquires) {
  const auto lease = **a_->acquire_lease("sync:crm|", "instance-a", kT0, kTtl);
  EXPECT_TRUE(a_->put_snapshot({"crm|", "crm", "[1]", 1, 1}, {"sync:crm|", lease.token}).ok());
  ASSERT_TRUE(*a_->release_lease("sync:crm|", "instance-a"));
  EXPECT_TRUE(a_->put_snapshot({"crm|", "crm", "[2]", 2, 1}, {"sync:crm|", lease.token}).ok())
      << "released, but no newer acquisition";
}

TEST_P(ClusterStoreTest, ASharedTokenIsSeenByOtherInstancesUntilItExpiresAndSealedAtRest) {
  const std::string payload = R"({"access_token":"eyJ-SHARED-TOKEN-MUST-NOT-LEAK"})";
  ASSERT_TRUE(a_->put_shared_token("https://login/t\nclient\n", {payload, kT0 + 3600'000}).ok());
  auto seen = b_->get_shared_token("https://login/t\nclient\n", kT0);
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->payload, payload);
  EXPECT_EQ((*seen)->expires_at_ms, kT0 + 3600'000);
  EXPECT_FALSE(*b_->get_shared_token("https://login/t\nclient\n", kT0 + 3600'000))
      << "an expired token is never returned";
  EXPECT_FALSE(*b_->get_shared_token("another key", kT0));

  a_.reset();
  b_.reset();
  EXPECT_EQ(stored_bytes().find("SHARED-TOKEN-MUST-NOT-LEAK"), std::string::npos);
}

TEST_P(ClusterStoreTest, DroppingARefusedSharedTokenKeepsANewerOne) {
  ASSERT_TRUE(a_->put_shared_token("k", {"token-1", kT0 + 3600'000}).ok());
  ASSERT_TRUE(b_->put_shared_token("k", {"token-2", kT0 + 3700'000}).ok());
  EXPECT_FALSE(*a_->drop_shared_token("k", "token-1")) << "token-2 replaced it";
  EXPECT_EQ((*a_->get_shared_token("k", kT0))->payload, "token-2");
  EXPECT_TRUE(*a_->drop_shared_token("k", "token-2"));
  EXPECT_FALSE(*a_->get_shared_token("k", kT0));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ClusterStoreTest, ::testing::Values(Backend::sqlite),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, ClusterStoreTest, ::testing::Values(Backend::postgres),
                         backend_name);

}  // namespace
}  // namespace extdata::store::testing
