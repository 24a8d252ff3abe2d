// What only the PostgreSQL store does (the shared contract is store_contract_test.cpp):
// notifications between instances, outages and reconnects, the store URL and its password,
// the master key from the operator, and `store migrate` from SQLite.
#include <chrono>
#include <thread>

#include "store/postgres/postgres_store.h"
#include "unit/store/store_backends.h"

namespace extdata::store::testing {
namespace {

class PostgresStore : public BackendFixture {};

// Polls `count` until it exceeds `before` or a second passed (the promise to a server: a
// change through another instance is seen within 1 s).
bool rises_within_a_second(Store& store, std::int64_t before) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = store.external_change_count();
    if (now.ok() && *now > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST_P(PostgresStore, AWriteThroughOneInstanceRaisesTheOthersChangeCountButNotItsOwn) {
  auto a = open();
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = open();
  ASSERT_TRUE(b.ok()) << b.error().message;
  const std::int64_t a_before = *(*a)->external_change_count();
  const std::int64_t b_before = *(*b)->external_change_count();

  ASSERT_TRUE((*a)->apply(sample("Qx8~notify-secret")).ok());
  ASSERT_TRUE(rises_within_a_second(**b, b_before)) << "B sees A's apply within 1 s";
  const std::int64_t b_seen = *(*b)->external_change_count();
  EXPECT_EQ(b_seen, b_before + 1) << "one transaction, one change";

  // A dry run, a refused write and what is not configuration (a snapshot, a status, a lease)
  // notify nobody; the next configuration write (delivered after them, in commit order) is
  // the only change B counts.
  ASSERT_TRUE((*a)->apply(sample("Qx8~other"), {.dry_run = true}).ok());
  ASSERT_FALSE((*a)->put_source(sample("x").sources[0], Expect::absent()).ok());
  ASSERT_TRUE((*a)->put_snapshot({"customers|", "customers", "[]", 1, 0}).ok());
  ASSERT_TRUE((*a)->put_status({"customers", 10, 9, 3, "", ""}).ok());
  ASSERT_TRUE((*a)->acquire_lease("sync:customers|", "a", 1, 1000).ok());
  config::FieldConfig field = *(*a)->get_field("customer").value();
  field.spec["label"] = "{fields.Code}";
  ASSERT_TRUE((*a)->put_field(field).ok());
  ASSERT_TRUE(rises_within_a_second(**b, b_seen));
  EXPECT_EQ(*(*b)->external_change_count(), b_seen + 1);

  // A's own writes are not news to A (its notifications carry its instance id); B's are.
  EXPECT_EQ(*(*a)->external_change_count(), a_before);
  ASSERT_TRUE(*(*b)->delete_field("customer"));
  EXPECT_TRUE(rises_within_a_second(**a, a_before)) << "A sees B's delete";
}

TEST_P(PostgresStore, InstancesStartingTogetherMigrateOnce) {
  std::vector<std::thread> starting;
  std::atomic<int> opened{0};
  for (int i = 0; i < 3; ++i)
    starting.emplace_back([&] {
      if (open().ok()) ++opened;
    });
  for (auto& t : starting) t.join();
  EXPECT_EQ(opened.load(), 3);
  EXPECT_EQ(PgServer::value("SELECT count(*)::text FROM schema_version", db_), "1");
}

TEST_P(PostgresStore, AnOutageIsStoreUnavailableNamingTheServerAndTheNextCallReconnects) {
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  ASSERT_TRUE(s.apply(sample("Qx8~outage-secret")).ok());
  const std::int64_t changes = *s.external_change_count();
  EXPECT_TRUE(s.health().up);
  EXPECT_EQ(s.health().reconnects, 0);

  ASSERT_TRUE(PgServer::stop());
  auto during = s.list_sources();
  ASSERT_FALSE(during.ok());
  EXPECT_EQ(during.error().code, "store.unavailable");
  EXPECT_NE(during.error().hint.find(std::getenv("EXTDATA_TEST_PG_PORT")), std::string::npos)
      << during.error().hint;
  EXPECT_FALSE(s.external_change_count().ok());
  EXPECT_FALSE(s.health().up);

  ASSERT_TRUE(PgServer::start());
  auto after = s.list_sources();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->size(), 1u);
  EXPECT_TRUE(s.health().up);
  EXPECT_GE(s.health().reconnects, 1);
  // Listening again: what happened meanwhile is unknown, so it counts as a change.
  auto again = s.external_change_count();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT(*again, changes);
}

TEST_P(PostgresStore, ARestartBetweenTwoCallsIsNotSeenByTheSecond) {
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->apply(sample("Qx8~restart-secret")).ok());
  ASSERT_TRUE(PgServer::stop() && PgServer::start());
  auto source = (*store)->get_source("customers");  // the pooled connection died: a new one
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ((**source).spec["client_secret"], "Qx8~restart-secret");
  EXPECT_GE((*store)->health().reconnects, 1);
}

TEST_P(PostgresStore, APasswordInTheUrlIsRefusedWithoutConnecting) {
  auto store = open_postgres_store("postgresql://extdata:Hunter2-pw@127.0.0.1:1/extdata", {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "store.url_password");
  EXPECT_EQ(store.error().message.find("Hunter2-pw"), std::string::npos);
  EXPECT_NE(store.error().hint.find("PGPASSFILE"), std::string::npos);
  auto keyword =
      open_postgres_store("postgresql://extdata@127.0.0.1:1/extdata?password=Hunter2", {});
  ASSERT_FALSE(keyword.ok());
  EXPECT_EQ(keyword.error().code, "store.url_password");
  auto other = open_postgres_store("mysql://127.0.0.1/extdata", {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "store.url");
}

TEST_P(PostgresStore, APasswordFileReadableByOthersIsRefused) {
  const fs::path file = dir_ / "pgpassword";
  std::ofstream(file) << "pw\n";
  ::chmod(file.c_str(), 0644);
  setenv("EXTDATA_STORE_PASSWORD_FILE", file.c_str(), 1);
  auto store = open();
  unsetenv("EXTDATA_STORE_PASSWORD_FILE");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "store.password_file");
}

TEST_P(PostgresStore, AServerThatIsNotThereIsStoreUnavailableNamingIt) {
  auto store = open_postgres_store("postgresql://extdata@127.0.0.1:1/extdata",
                                   {.key_file = (dir_ / "master.key").string()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "store.unavailable");
  EXPECT_NE(store.error().message.find("127.0.0.1:1/extdata"), std::string::npos);
}

TEST_P(PostgresStore, TheMasterKeyMustComeFromTheOperator) {
  auto store = open_postgres_store(url(), {});  // no key file, no EXTDATA_MASTER_KEY(_FILE)
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "store.master_key_missing");
  EXPECT_NE(store.error().hint.find("EXTDATA_MASTER_KEY_FILE"), std::string::npos);
  setenv("EXTDATA_MASTER_KEY_FILE", (dir_ / "master.key").c_str(), 1);
  auto with_key = open_postgres_store(url(), {});
  unsetenv("EXTDATA_MASTER_KEY_FILE");
  EXPECT_TRUE(with_key.ok()) << with_key.error().message;
}

// A data directory with something of everything, moved into PostgreSQL and read back there.
TEST_P(PostgresStore, MigrateCopiesAnSqliteDataDirectoryWholeIntoAnEmptyStore) {
  const fs::path data = dir_ / "data";
  std::string token, big;
  for (int i = 0; big.size() < 5'000; ++i) big += std::to_string(i) + ',';
  std::string version;
  {
    auto sqlite = open_sqlite_store(data.string(), {.snapshot_chunk_bytes = 1000});
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
    auto& s = **sqlite;
    auto applied = s.apply(sample("Qx8~migrated-secret"));
    ASSERT_TRUE(applied.ok());
    version = (*applied)[0].written.version;
    token = *s.create_token("admin", "ops", 1000);
    ASSERT_TRUE(s.put_snapshot({"customers|", "customers", big, 1234, 11}).ok());
    ASSERT_TRUE(s.put_status({"customers", 10, 9, 11, "", ""}).ok());
    ASSERT_TRUE(*s.put_grant("customers", "{\"refresh_token\":\"rt\"}", 0));
    ASSERT_TRUE(s.put_target_state("jira", "{\"ids\":{}}").ok());
  }
  auto report = migrate_sqlite_to_postgres(data.string(), url());
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->sources, 1u);
  EXPECT_EQ(report->fields, 1u);
  EXPECT_EQ(report->secrets, 1u);
  EXPECT_EQ(report->tokens, 1u);
  EXPECT_EQ(report->snapshots, 1u);
  EXPECT_EQ(report->snapshot_bytes, big.size());
  EXPECT_EQ(report->grants, 1u);

  // Opened as a server would, with the data directory's key.
  auto store = open_postgres_store(url(), {.key_file = (data / "master.key").string()});
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& pg = **store;
  auto source = pg.get_source_versioned("customers");
  ASSERT_TRUE(source.ok() && source->has_value());
  EXPECT_EQ((*source)->value.spec["client_secret"], "Qx8~migrated-secret");
  EXPECT_EQ((*source)->version, version);
  EXPECT_TRUE(pg.get_field("customer")->has_value());
  EXPECT_EQ((*pg.find_token(token))->label, "ops");
  EXPECT_EQ((*pg.get_snapshot("customers|"))->payload, big);
  EXPECT_EQ((*pg.get_status("customers"))->records, 11u);
  EXPECT_EQ((*pg.get_grant("customers"))->generation, 1);
  EXPECT_EQ(*pg.get_target_state("jira"), "{\"ids\":{}}");
  // Versions go on after SQLite's: the old ETag still matches, the next one is new.
  config::SourceConfig changed = (*source)->value;
  changed.spec["list"] = "Countries";
  auto written = pg.put_source(changed, Expect::one_of({version}));
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_GT(std::stoll(written->version), std::stoll(version));

  auto again = migrate_sqlite_to_postgres(data.string(), url());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "store.migrate_not_empty");
}

TEST_P(PostgresStore, MigrateRefusesAStoreMadeWithAnotherKey) {
  const fs::path data = dir_ / "data";
  {
    auto sqlite = open_sqlite_store(data.string());
    ASSERT_TRUE(sqlite.ok());
    ASSERT_TRUE((*sqlite)->apply(sample("Qx8~key-secret")).ok());
  }
  ASSERT_TRUE(open().ok());  // the PostgreSQL store now has dir_/master.key's key check
  auto report = migrate_sqlite_to_postgres(data.string(), url());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "store.master_key");
  EXPECT_NE(report.error().message.find("does not match"), std::string::npos);
  EXPECT_EQ(PgServer::value("SELECT count(*)::text FROM sources", db_), "0");
}

TEST_P(PostgresStore, AFailedMigrateLeavesTheStoreEmpty) {
  const fs::path data = dir_ / "data";
  {
    auto sqlite = open_sqlite_store(data.string());
    ASSERT_TRUE(sqlite.ok());
    ASSERT_TRUE((*sqlite)->apply(sample("Qx8~half-secret")).ok());
    ASSERT_TRUE((*sqlite)->create_token("reader", "r", 1).ok());
  }
  // A trigger makes the copy fail after sources and fields: nothing of it may stay.
  ASSERT_TRUE(open_postgres_store(url(), {.key_file = (data / "master.key").string()}).ok());
  ASSERT_EQ(PgServer::sql("CREATE FUNCTION no_tokens() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$BEGIN RAISE EXCEPTION 'no tokens today'; END$$; "
                          "CREATE TRIGGER no_tokens BEFORE INSERT ON api_tokens "
                          "FOR EACH ROW EXECUTE FUNCTION no_tokens()",
                          db_),
            "");
  auto report = migrate_sqlite_to_postgres(data.string(), url());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("no tokens today"), std::string::npos);
  EXPECT_EQ(PgServer::value("SELECT count(*)::text FROM sources", db_), "0");
  EXPECT_EQ(PgServer::value("SELECT count(*)::text FROM secrets", db_), "0");
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStore, ::testing::Values(Backend::postgres),
                         backend_name);

}  // namespace
}  // namespace extdata::store::testing
