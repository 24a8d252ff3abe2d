#pragma once
// The store tests that state the Store contract run on both backends: SQLite in a temp data
// directory, and PostgreSQL in a fresh database of the server tests/support/with-postgres.sh
// started (ctest's unit_store_postgres runs the tests named Postgres*).
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "config/config.h"
#include "store/postgres/pg.h"
#include "store/postgres/postgres_store.h"
#include "store/store.h"

namespace extdata::store::testing {

namespace fs = std::filesystem;

enum class Backend { sqlite, postgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "Sqlite" : "Postgres";
}

// The server of with-postgres.sh, reached as the superuser over its socket.
struct PgServer {
  static bool available() { return std::getenv("EXTDATA_TEST_PG_HOST") != nullptr; }
  static std::string url(const std::string& db) {
    return "postgresql://postgres@/" + db + "?host=" + std::getenv("EXTDATA_TEST_PG_HOST") +
           "&port=" + std::getenv("EXTDATA_TEST_PG_PORT");
  }
  // Runs SQL as the superuser in `db`; the error's message when it fails.
  static std::string sql(const std::string& statement, const std::string& db = "postgres") {
    auto target = pg::parse_target(url(db));
    if (!target.ok()) return target.error().message;
    auto conn = pg::connect(*target);
    if (!conn.ok()) return conn.error().message;
    auto done = (*conn)->run(statement);
    return done.ok() ? std::string() : done.error().message;
  }
  // The first column of the first row of `query`, as text.
  static std::string value(const std::string& query, const std::string& db) {
    auto target = pg::parse_target(url(db));
    if (!target.ok()) return "";
    auto conn = pg::connect(*target);
    if (!conn.ok()) return "";
    auto rows = (*conn)->exec(query.c_str());
    return rows.ok() && !rows->empty() ? rows->text(0, 0) : "";
  }
  static bool stop() { return run_env("EXTDATA_TEST_PG_STOP"); }
  static bool start() { return run_env("EXTDATA_TEST_PG_START"); }
  static bool run_env(const char* name) {
    const char* command = std::getenv(name);
    return command && std::system(command) == 0;
  }
};

inline std::string random_suffix() {
  return std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
}

// A temp directory, and for PostgreSQL a database of its own and a master key file (a
// PostgreSQL store never makes a key).
class BackendFixture : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    unsetenv("EXTDATA_MASTER_KEY");
    unsetenv("EXTDATA_MASTER_KEY_FILE");
    unsetenv("EXTDATA_STORE_PASSWORD_FILE");
    dir_ = fs::temp_directory_path() / ("extdata-store-" + random_suffix());
    fs::create_directories(dir_);
    if (GetParam() == Backend::postgres) {
      ASSERT_TRUE(PgServer::available())
          << "PostgreSQL tests run through ctest (unit_store_postgres) or "
             "tests/support/with-postgres.sh";
      db_ = "t" + random_suffix();
      ASSERT_EQ(PgServer::sql("CREATE DATABASE " + db_), "");
      write_key(dir_ / "master.key");
    }
  }
  void TearDown() override {
    if (!db_.empty()) (void)PgServer::sql("DROP DATABASE " + db_ + " WITH (FORCE)");
    fs::remove_all(dir_);
  }

  static void write_key(const fs::path& file, const std::string& key = "") {
    std::string hex = key;
    if (hex.empty()) {
      unsigned char raw[32];
      randombytes_buf(raw, sizeof raw);
      char text[65];
      sodium_bin2hex(text, sizeof text, raw, sizeof raw);
      hex = text;
    }
    std::ofstream(file) << hex << "\n";
    ::chmod(file.c_str(), 0600);
  }

  std::string url() const { return PgServer::url(db_); }

  // A store on this test's backend; another call is another connection (another process).
  Result<std::unique_ptr<Store>> open(size_t chunk_bytes = 0) {
    if (GetParam() == Backend::sqlite)
      return chunk_bytes ? open_sqlite_store(dir_.string(), {.snapshot_chunk_bytes = chunk_bytes})
                         : open_sqlite_store(dir_.string());
    PostgresOptions options;
    options.key_file = (dir_ / "master.key").string();
    if (chunk_bytes) options.snapshot_chunk_bytes = chunk_bytes;
    return open_postgres_store(url(), options);
  }

  // Everything the backend keeps, as bytes to search: the files of the data directory but
  // the key, or every row of every table as text (bytea as hex).
  std::string stored_bytes() {
    std::string all;
    if (GetParam() == Backend::sqlite) {
      for (const auto& entry : fs::directory_iterator(dir_))
        if (entry.path().filename() != "master.key") all += slurp(entry.path());
      return all;
    }
    for (const char* table : {"meta", "sources", "fields", "secrets", "targets", "target_state",
                              "api_tokens", "snapshots", "snapshot_pieces", "source_status",
                              "user_grants", "pending_sign_ins", "leases", "shared_tokens"})
      all += PgServer::value(
          std::string("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM ") + table + " t",
          db_);
    return all;
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

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

  fs::path dir_;
  std::string db_;
};

}  // namespace extdata::store::testing
