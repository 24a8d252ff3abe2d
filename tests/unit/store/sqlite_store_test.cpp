#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "config/config.h"
#include "store/store.h"

namespace extdata::store {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    dir_ = fs::temp_directory_path() / ("extdata-store-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  config::ConfigFile sample(const std::string& secret) {
    auto r = config::parse_config(R"(sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret: )" + secret + R"(
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
fields:
  - name: customer
    source: customers
)");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
};

TEST_F(StoreTest, KeyFileIsCreatedWithMode0600) {
  ASSERT_TRUE(open_sqlite_store(dir_.string()).ok());
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Issue 15, row 12: extdata.db, -wal and -shm were 0644.
TEST_F(StoreTest, StoreFilesAreCreatedWithMode0600) {
  auto store = open_sqlite_store(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->apply(sample("secret-for-mode")).ok());  // the WAL exists now
  for (const char* name : {"extdata.db", "extdata.db-wal", "extdata.db-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat((dir_ / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
}

TEST_F(StoreTest, ExistingStoreFilesAreMadePrivateOnOpen) {
  ASSERT_TRUE(open_sqlite_store(dir_.string()).ok());
  ASSERT_EQ(chmod((dir_ / "extdata.db").c_str(), 0644), 0);
  ASSERT_TRUE(open_sqlite_store(dir_.string()).ok());
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "extdata.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Issue 15, row 12: a missing master.key next to a store was silently replaced.
TEST_F(StoreTest, MissingKeyFileNextToAStoreIsAnErrorNotANewKey) {
  {
    auto store = open_sqlite_store(dir_.string());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->apply(sample("secret-for-lost-key")).ok());
  }
  fs::remove(dir_ / "master.key");
  auto reopened = open_sqlite_store(dir_.string());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, "store.master_key_missing");
  EXPECT_NE(reopened.error().hint.find("Restore master.key"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "master.key"));  // no new key was made
}

// A data directory written before versions existed (schema 3): its items get version 0 and
// their first write a fresh one.
TEST_F(StoreTest, AStoreFromBeforeVersionsIsMigratedAndItsItemsVersioned) {
  {
    auto store = open_sqlite_store(dir_.string());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->apply(sample("Qx8~migrated-secret")).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "extdata.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE sources DROP COLUMN version; "
                         "ALTER TABLE fields DROP COLUMN version; "
                         "ALTER TABLE snapshots DROP COLUMN cursor; "
                         "ALTER TABLE source_status DROP COLUMN sync; "
                         "DROP TABLE targets; DROP TABLE target_state; "
                         "DROP TABLE user_grants; DROP TABLE pending_sign_ins; "
                         "DROP TABLE leases; DROP TABLE shared_tokens; "
                         "DELETE FROM meta WHERE key='revision'; "
                         "UPDATE meta SET value='3' WHERE key='schema_version';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto store = open_sqlite_store(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto source = (*store)->get_source_versioned("customers");
  ASSERT_TRUE(source.ok() && source->has_value());
  EXPECT_EQ((*source)->version, "0");
  EXPECT_EQ((*source)->value.spec["client_secret"], "Qx8~migrated-secret");
  config::SourceConfig changed = (*source)->value;
  changed.spec["list"] = "Countries";
  auto written = (*store)->put_source(changed, Expect::one_of({"0"}));
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(written->version, "1");
}

}  // namespace
}  // namespace extdata::store
