// Issue 19, item 3: `extdata backup` / `extdata restore` — a consistent copy while the store is
// in use, never the master key, and a restore that refuses another key, a damaged file or a
// data directory that has a store, writing nothing then.
#include "store/sqlite/backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "config/config.h"
#include "store/store.h"

namespace extdata::store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "Qx8~backup-secret-value-0001";

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    unsetenv("EXTDATA_MASTER_KEY_FILE");
    base_ =
        fs::temp_directory_path() / ("extdata-backup-" + std::to_string(std::random_device{}()));
    fs::create_directories(base_);
    data_ = (base_ / "data").string();
    auto store = open_sqlite_store(data_);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(*store);
    auto config = config::parse_config(std::string(R"(sources:
  - name: customers
    type: sharepoint-list
    tenant: contoso.onmicrosoft.com
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret: )") + kSecret + R"(
    site: https://contoso.sharepoint.com/sites/Sales
    list: Customers
fields:
  - name: customer
    source: customers
)");
    ASSERT_TRUE(config.ok());
    ASSERT_TRUE(store_->apply(*config).ok());
    auto token = store_->create_token("reader", "forms", 1'800'000'000);
    ASSERT_TRUE(token.ok());
    token_ = *token;
    ASSERT_TRUE(store_
                    ->put_snapshot({.key = "customers|",
                                    .source = "customers",
                                    .payload = R"([{"record":{"id":1},"columns":{}}])",
                                    .fetched_at = 1'800'000'000,
                                    .records = 1})
                    .ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(base_);
  }
  std::string path(const std::string& name) const { return (base_ / name).string(); }
  void copy_key_to(const std::string& dir) const {
    fs::create_directories(dir);
    fs::copy_file(data_ + "/master.key", dir + "/master.key");
    fs::permissions(dir + "/master.key", fs::perms::owner_read | fs::perms::owner_write);
  }

  fs::path base_;
  std::string data_;
  std::unique_ptr<Store> store_;  // open: the backup is taken from a store in use
  std::string token_;
};

TEST_F(BackupTest, CopiesEverythingButTheMasterKeyWhileTheStoreIsOpen) {
  auto report = backup_store(data_, path("backup.db"), {});
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->sources, 1u);
  EXPECT_EQ(report->fields, 1u);
  EXPECT_EQ(report->secrets, 1u);
  EXPECT_EQ(report->tokens, 1u);
  EXPECT_EQ(report->snapshots, 1u);
  struct stat st {};
  ASSERT_EQ(::stat(path("backup.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(path("backup.db.partial")));

  // Neither the key nor the secret's plaintext is in the file.
  std::ifstream key_in(data_ + "/master.key");
  std::string key;
  std::getline(key_in, key);
  std::ifstream in(path("backup.db"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes.find(key), std::string::npos);
  EXPECT_EQ(bytes.find(kSecret), std::string::npos);
}

TEST_F(BackupTest, RestoresIntoAnEmptyDataDirectoryWithTheSameKey) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  const std::string target = path("restored");
  copy_key_to(target);
  auto report = restore_store(path("backup.db"), target);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  auto restored = open_sqlite_store(target);
  ASSERT_TRUE(restored.ok()) << restored.error().to_string();
  auto source = (*restored)->get_source("customers");
  ASSERT_TRUE(source.ok() && source->has_value());
  EXPECT_EQ((**source).spec["client_secret"], kSecret) << "sealed secrets open with the key";
  auto token = (*restored)->find_token(token_);
  ASSERT_TRUE(token.ok() && token->has_value()) << "API tokens keep working";
  auto snapshot = (*restored)->get_snapshot("customers|");
  ASSERT_TRUE(snapshot.ok() && snapshot->has_value());
  EXPECT_EQ((**snapshot).records, 1u);
}

TEST_F(BackupTest, RefusesABackupMadeWithAnotherKeyAndWritesNothing) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  const std::string target = path("other");
  fs::create_directories(target);
  {
    std::ofstream key(target + "/master.key");
    key << std::string(64, 'b') << "\n";
  }
  fs::permissions(target + "/master.key", fs::perms::owner_read | fs::perms::owner_write);
  auto report = restore_store(path("backup.db"), target);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "store.backup_key_mismatch");
  EXPECT_FALSE(fs::exists(target + "/extdata.db"));
}

TEST_F(BackupTest, RefusesToRestoreWithoutTheKeyAndNeverMakesANewOne) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  const std::string target = path("keyless");
  auto report = restore_store(path("backup.db"), target);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "store.master_key");
  EXPECT_NE(report.error().hint.find("master.key"), std::string::npos);
  EXPECT_FALSE(fs::exists(target + "/master.key"));
  EXPECT_FALSE(fs::exists(target + "/extdata.db"));
}

TEST_F(BackupTest, RefusesADataDirectoryThatHasAStore) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  auto report = restore_store(path("backup.db"), data_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "store.restore_not_empty");
}

TEST_F(BackupTest, RefusesADamagedBackup) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  {
    // The header of every b-tree page after the first (page size 4096, SQLite's default).
    const auto size = fs::file_size(path("backup.db"));
    std::fstream f(path("backup.db"), std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(8, '\xA5');
    for (std::uintmax_t page = 4096; page < size; page += 4096) {
      f.seekp(static_cast<std::streamoff>(page));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
  }
  const std::string target = path("restored");
  copy_key_to(target);
  auto report = restore_store(path("backup.db"), target);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().code == "store.backup" || report.error().code == "store.sqlite")
      << report.error().to_string();
  EXPECT_FALSE(fs::exists(target + "/extdata.db"));
}

TEST_F(BackupTest, DoesNotReplaceAnExistingFileUnlessAsked) {
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  auto again = backup_store(data_, path("backup.db"), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "store.backup_exists");
  EXPECT_TRUE(backup_store(data_, path("backup.db"), {.overwrite = true}).ok());
}

TEST_F(BackupTest, NamesAMissingStore) {
  auto report = backup_store(path("nothing-here"), path("backup.db"), {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "store.not_found");
}

TEST_F(BackupTest, TheKeyCanComeFromAFileOutsideTheDataDirectory) {
  // systemd's LoadCredential=master.key:/etc/extdata/master.key puts it here.
  const std::string credentials = path("credentials");
  copy_key_to(credentials);
  setenv("CREDENTIALS_DIRECTORY", credentials.c_str(), 1);
  ASSERT_TRUE(backup_store(data_, path("backup.db"), {}).ok());
  const std::string target = path("restored-with-credential");
  auto report = restore_store(path("backup.db"), target);
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_FALSE(fs::exists(target + "/master.key")) << "the key stays where the unit keeps it";
}

}  // namespace
}  // namespace extdata::store
