// The sql source kind without a server: what validation refuses (no connection is opened),
// connection strings, and SQLite files (read-only, types to JSON, the row cap), so these run
// in every unit test run; the servers are exercised by tests/integration/sql_sources.sh.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "sources/common/report.h"
#include "sources/file/files_root.h"
#include "sources/source.h"
#include "sources/sql/connection_url.h"
#include "sources/sql/row_writer.h"
#include "sources/sql/sql_source.h"

namespace extdata::sources {
namespace {

using nlohmann::json;

struct Fixture {
  ManualClock clock;
  Metrics metrics;
  SourceDeps deps{clock, metrics, nullptr, {}};

  Result<std::shared_ptr<Source>> make(json spec) {
    spec["type"] = "sql";
    auto config = config::parse_source(spec.dump(), "src");
    if (!config.ok()) return config.error();
    return make_source(*config, deps);
  }
  std::string code(json spec) {
    auto s = make(std::move(spec));
    return s.ok() ? "ok" : s.error().code;
  }
};

json with(json a, const json& b) {
  a.update(b);
  return a;
}

json pg(std::string query) {
  return {{"driver", "postgres"},
          {"connection", "postgresql://app@db.example.com:5432/crm"},
          {"query", std::move(query)}};
}

TEST(SqlSourceValidation, BuildsWithoutConnectingToAnything) {
  Fixture f;
  // db.example.com does not resolve here: building must not try.
  auto s = f.make(with(pg("SELECT id FROM t WHERE c = :c"),
                       json{{"variables", {{"c", {{"required", true}}}}}}));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->variable_names(), (std::vector<std::string>{"c"}));
}

TEST(SqlSourceValidation, RefusesBadInputWithCodeAndKey) {
  Fixture f;
  struct Case {
    json spec;
    std::string code, key;
  };
  json declared = {{"variables", {{"country", json::object()}}}};
  std::vector<Case> cases = {
      {pg("SELECT 1; DELETE FROM t"), "sql.multiple_statements", "query"},
      {pg("SELECT * FROM t WHERE a = :a"), "sql.undeclared_parameter", "query"},
      {with(pg("SELECT 1"), declared), "sql.unused_variable", "variables.country"},
      {with(pg("SELECT 1"), json{{"connection", "postgresql://app:pw@db/crm"}}),
       "sql.password_in_url", "connection"},
      {with(pg("SELECT 1"), json{{"connection", "host=db user=app password=pw"}}),
       "sql.password_in_url", "connection"},
      {with(pg("SELECT 1"), json{{"connection", "postgresql://app@db/crm?hostaddr=10.0.0.1"}}),
       "sql.bad_connection", "connection"},
      {with(pg("SELECT 1"), json{{"connection", "host=/var/run/postgresql"}}), "sql.bad_connection",
       "connection"},
      {{{"driver", "mysql"}, {"connection", "mysql://app:pw@db/shop"}, {"query", "SELECT 1"}},
       "sql.password_in_url",
       "connection"},
      {{{"driver", "mysql"},
        {"connection", "mysql://app@db/shop?password=pw"},
        {"query", "SELECT 1"}},
       "sql.password_in_url",
       "connection"},
      {{{"driver", "odbc"}, {"connection", "DSN=crm;Pwd={x;y}"}, {"query", "SELECT 1"}},
       "sql.password_in_url",
       "connection"},
      {{{"driver", "odbc"}, {"connection", "Driver=/tmp/evil.so"}, {"query", "SELECT 1"}},
       "sql.bad_connection",
       "connection"},
      {{{"driver", "mysql"}, {"connection", "mysql://app@db/shop"}, {"query", "SELECT ?"}},
       "sql.bad_query",
       "query"},
      // A second Server could be the one the driver takes, unchecked.
      {{{"driver", "odbc"},
        {"connection", "Driver=PostgreSQL;Server=db.example.com;SERVER=10.0.0.1"},
        {"query", "SELECT 1"}},
       "sql.bad_connection",
       "connection"},
      // pqopt is how extdata pins psqlodbc's address; a source may not set hostaddr itself.
      {{{"driver", "odbc"},
        {"connection", "Driver=PostgreSQL;Server=db.example.com;pqopt={hostaddr=10.0.0.1}"},
        {"query", "SELECT 1"}},
       "sql.bad_connection",
       "connection"},
      // Without a host the driver would pick its own default (a local socket).
      {{{"driver", "odbc"}, {"connection", "Driver=PostgreSQL;Database=crm"}, {"query", "SELECT 1"}},
       "sql.bad_connection",
       "connection"},
      {{{"driver", "odbc"},
        {"connection", "Driver=SQLite3;Database=/tmp/x.db;LoadExt=/tmp/evil.so"},
        {"query", "SELECT 1"}},
       "sql.bad_connection",
       "connection"},
  };
  for (const auto& c : cases) {
    auto s = f.make(c.spec);
    ASSERT_FALSE(s.ok()) << c.spec.dump();
    EXPECT_EQ(s.error().code, c.code) << c.spec.dump();
    EXPECT_EQ(s.error().details.at("key"), c.key) << c.spec.dump();
    EXPECT_EQ(s.error().category(), ErrorCategory::invalid_input) << c.spec.dump();
    EXPECT_EQ(s.error().message.find("pw"), std::string::npos) << s.error().message;
  }
}

TEST(SqlSourceValidation, UnknownDriverAndMissingConnectionAreConfigErrors) {
  Fixture f;
  EXPECT_EQ(f.code({{"driver", "oracle"}, {"connection", "x"}, {"query", "SELECT 1"}}),
            "config.invalid");
  EXPECT_EQ(f.code({{"driver", "postgres"}, {"query", "SELECT 1"}}), "config.invalid");
  EXPECT_EQ(f.code({{"driver", "sqlite"}, {"query", "SELECT 1"}}), "config.invalid");
}

TEST(ConnectionUrl, ReadsUserHostPortDatabaseAndOptions) {
  auto u = sql::parse_connection_url("mysql://app%40x@[::1]:3307/shop%20a?sslmode=require");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->user, "app@x");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 3307);
  EXPECT_EQ(u->database, "shop a");
  EXPECT_EQ(u->options.at("sslmode"), "require");
  EXPECT_FALSE(sql::parse_connection_url("mysql://app@db:99999/x").ok());
  EXPECT_FALSE(sql::parse_connection_url("db/x").ok());
}

TEST(ConnectionUrl, OdbcStringsTakeBracedValues) {
  auto keys = sql::parse_odbc_string("Driver={ODBC Driver 18; x};Server=db,1433; Database = crm");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->at("driver"), "ODBC Driver 18; x");
  EXPECT_EQ(keys->at("server"), "db,1433");
  EXPECT_EQ(keys->at("database"), "crm");
  EXPECT_EQ(sql::parse_odbc_string("Driver={open").error().code, "sql.bad_connection");
}

TEST(ConnectionUrl, OdbcStringsAreWrittenBackWithTheirKeysAndBracesWhereNeeded) {
  auto entries = sql::parse_odbc_entries("Driver={PostgreSQL ANSI};Servername=db;UID=a}b");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[1].key, "Servername");
  EXPECT_EQ((*entries)[1].name, "servername");
  entries->push_back({"pqopt", "pqopt", "hostaddr=10.0.0.1"});
  entries->push_back({"X", "x", "a;b}c"});
  EXPECT_EQ(sql::odbc_string(*entries),
            "Driver=PostgreSQL ANSI;Servername=db;UID={a}}b};pqopt={hostaddr=10.0.0.1};X={a;b}}c};");
  auto again = sql::parse_odbc_string(sql::odbc_string(*entries));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("uid"), "a}b");
  EXPECT_EQ(again->at("x"), "a;b}c");
}

TEST(ConnectionUrl, OdbcKeysGivenTwiceAreRefusedWhateverTheirCase) {
  auto twice = sql::parse_odbc_string("DSN=crm;Server=a;server=b");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, "sql.bad_connection");
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
}

TEST(RowWriter, NumbersJsonCannotHoldExactlyBecomeStrings) {
  sql::RowWriter w(10, nullptr);
  w.set_columns({"a", "b", "c", "d", "e", "f", "g"});
  ASSERT_TRUE(w.begin_row().ok());
  w.number("12.50");
  w.number("NaN");
  w.number("123456789012345678901234567890");
  w.number("9223372036854775807");  // int8 max: 19 digits, kept exact as a string
  w.number("-0.000123");
  w.timestamp("2024-05-01 10:00:00+05:30", true);
  w.timestamp("infinity", true);
  ASSERT_TRUE(w.end_row().ok());
  auto set = w.finish();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(records_to_json(**set)[0],
            json::parse(R"({"a":12.5,"b":"NaN","c":"123456789012345678901234567890",
              "d":"9223372036854775807","e":-0.000123,"f":"2024-05-01T10:00:00+05:30",
              "g":"infinity"})"));
}

TEST(RowWriter, MoreRowsThanTheCapIsAnErrorNotACut) {
  sql::RowWriter w(2, nullptr);
  w.set_columns({"a"});
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(w.begin_row().ok());
    w.integer(i);
    ASSERT_TRUE(w.end_row().ok());
  }
  auto third = w.begin_row();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, "sql.too_many_rows");
}

TEST(RowWriter, RowsArePagedAndInvalidUtf8IsReplaced) {
  const size_t rows = sql::RowWriter::kRowsPerPage * 2 + 1;
  sql::RowWriter w(rows, nullptr);
  w.set_columns({"s"});
  for (size_t i = 0; i < rows; ++i) {
    ASSERT_TRUE(w.begin_row().ok());
    w.string(i == 0 ? std::string_view("a\xff") : std::string_view("b"));
    ASSERT_TRUE(w.end_row().ok());
  }
  auto set = w.finish();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->size(), rows);
  EXPECT_EQ((*set)->page_count(), 3u);
  EXPECT_EQ(records_to_json(**set, 1)[0]["s"], "a\xEF\xBF\xBD");
}

// A SQLite file made here, read through the source.
class SqliteSource : public testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("extdata-sql-unit-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_);
    auto roots = FilesRoots::parse(root_.string());
    ASSERT_TRUE(roots.ok()) << roots.error().message;
    FilesRoots::set_process(std::make_shared<FilesRoots>(std::move(roots).value()));
    path_ = root_ / "t.db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE t (id INTEGER, name TEXT, ok BOOLEAN, at DATETIME, "
                           "img BLOB, x REAL);"
                           "INSERT INTO t VALUES (1, 'Zoë', 1, '2024-05-01 10:00:00', x'00ff', "
                           "0.25), (2, NULL, 0, NULL, NULL, NULL);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  void TearDown() override {
    FilesRoots::set_process(std::make_shared<FilesRoots>());
    std::filesystem::remove_all(root_);
  }

  json spec(std::string query) {
    return {{"driver", "sqlite"}, {"path", path_.string()}, {"query", std::move(query)}};
  }
  Result<std::shared_ptr<const extract::RecordSet>> fetch(json s, Variables vars = {}) {
    auto source = f_.make(std::move(s));
    if (!source.ok()) return source.error();
    FetchRequest request;
    request.variables = std::move(vars);
    return (*source)->fetch(request, &trace_);
  }

  Fixture f_;
  FetchTrace trace_;
  std::filesystem::path root_, path_;
};

TEST_F(SqliteSource, RowsBecomeRecordsWithJsonTypes) {
  auto r = fetch(spec("SELECT * FROM t ORDER BY id"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r), json::parse(R"([
    {"id":1,"name":"Zoë","ok":true,"at":"2024-05-01T10:00:00","img":"AP8=","x":0.25},
    {"id":2,"name":null,"ok":false,"at":null,"img":null,"x":null}])"));
}

TEST_F(SqliteSource, ParametersAreBoundValuesAndTheTraceShowsThem) {
  json s = with(spec("SELECT id FROM t WHERE name = :n"),
                json{{"variables", {{"n", {{"required", true}}}}}});
  auto r = fetch(s, {{"n", "Zoë' OR '1'='1"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->size(), 0u);
  ASSERT_EQ(trace_.steps.size(), 2u);
  EXPECT_EQ(trace_.steps[1].url, "SELECT id FROM t WHERE name = ?  with :n = \"Zoë' OR '1'='1\"");
  r = fetch(s, {{"n", "Zoë"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 1u);
}

TEST_F(SqliteSource, AnUndeclaredValueIsNullAndARequiredOneMissingIsAnError) {
  auto r = fetch(with(spec("SELECT count(*) AS n FROM t WHERE :v IS NULL"),
                      json{{"variables", {{"v", json::object()}}}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r)[0]["n"], 2);
  r = fetch(with(spec("SELECT 1 WHERE :v"), json{{"variables", {{"v", {{"required", true}}}}}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.variable_missing");
}

TEST_F(SqliteSource, WritingIsRefusedAndTheFileUnchanged) {
  auto r = fetch(spec("DELETE FROM t"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "sql.read_only");
  r = fetch(spec("SELECT count(*) AS n FROM t"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(records_to_json(**r)[0]["n"], 2);
}

TEST_F(SqliteSource, OnlyFilesUnderTheOperatorsFilesRootsAreOpened) {
  std::string outside = (root_.parent_path() / "elsewhere.db").string();
  EXPECT_EQ(f_.code({{"driver", "sqlite"}, {"path", outside}, {"query", "SELECT 1"}}),
            "file.outside_root");
  EXPECT_EQ(f_.code({{"driver", "sqlite"}, {"path", "../x.db"}, {"query", "SELECT 1"}}),
            "file.outside_root");
  std::filesystem::create_symlink("/etc/hostname", root_ / "link.db");
  EXPECT_EQ(f_.code({{"driver", "sqlite"}, {"path", (root_ / "link.db").string()},
                     {"query", "SELECT 1"}}),
            "file.outside_root");
  // A relative path is taken in the first root.
  auto r = fetch({{"driver", "sqlite"}, {"path", "t.db"}, {"query", "SELECT count(*) AS n FROM t"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r)[0]["n"], 2);
}

TEST_F(SqliteSource, ColumnsSelectFromTheRow) {
  auto r = fetch(with(spec("SELECT id, name FROM t ORDER BY id"),
                      json{{"columns", {{"label", "name"}, {"key", "$.id"}}}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r)[0], json::parse(R"({"label":"Zoë","key":1})"));
}

TEST_F(SqliteSource, TablesAndColumnsForTheExplorer) {
  auto source = f_.make(spec("SELECT 1"));
  ASSERT_TRUE(source.ok());
  auto tables = sql::list_tables(**source);
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  EXPECT_EQ((*tables)[0]["name"], "t");
  auto cols = sql::list_columns(**source, "t");
  ASSERT_TRUE(cols.ok()) << cols.error().message;
  EXPECT_EQ(cols->size(), 6u);
  EXPECT_EQ((*cols)[1]["name"], "name");
}

TEST_F(SqliteSource, TheWizardsQuerySelectsEveryColumnWithNamesQuotedForTheDialect) {
  auto source = f_.make(spec("SELECT 1"));
  ASSERT_TRUE(source.ok());
  auto table = sql::describe_table(**source, "t");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ((*table)["query"], "SELECT id, name, ok, at, img, x FROM t");
  EXPECT_EQ((*table)["columns"][1]["sql"], "name");
  auto missing = sql::describe_table(**source, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "sql.unknown_relation");
}

TEST_F(SqliteSource, TheSqliteOdbcDriversDatabaseIsConfinedToTheFilesRootsToo) {
  auto odbc = [&](const std::string& database) {
    return f_.code({{"driver", "odbc"},
                    {"connection", "Driver={SQLite3};Database=" + database},
                    {"query", "SELECT 1"}});
  };
  EXPECT_EQ(odbc(path_.string()), "ok");
  EXPECT_EQ(odbc((root_.parent_path() / "elsewhere.db").string()), "file.outside_root");
  EXPECT_EQ(odbc("../x.db"), "file.outside_root");
  std::filesystem::create_symlink("/etc/hostname", root_ / "link.db");
  EXPECT_EQ(odbc((root_ / "link.db").string()), "file.outside_root");
  EXPECT_EQ(odbc("file:/etc/hostname?mode=ro"), "sql.bad_connection");
  FilesRoots::set_process(std::make_shared<FilesRoots>());
  EXPECT_EQ(odbc(path_.string()), "file.no_root");
}

}  // namespace
}  // namespace extdata::sources
