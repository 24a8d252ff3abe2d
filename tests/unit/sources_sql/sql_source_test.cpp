// The sql source kind without a server: what validation refuses (no connection is opened),
// connection strings, and SQLite files (read-only, types to JSON, the row cap), so these run
// in every unit test run; the servers are exercised by tests/integration/sql_sources.sh.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "extract/json_text.h"
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
      {{{"driver", "odbc"},
        {"connection", "Driver=PostgreSQL;Database=crm"},
        {"query", "SELECT 1"}},
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
  EXPECT_EQ(
      sql::odbc_string(*entries),
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
  const size_t rows = 2 * 100 + 1;
  sql::RowWriter w(rows, nullptr, 100);
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

// Rows are written straight into the RecordSet's pages. Each case is a cell as a driver writes
// it and the JSON text the row writer wrote for it when rows were JSON text parsed by
// RecordSet::append_page: the records, columns and value types must be the same.
struct Cell {
  std::function<void(sql::RowWriter&)> write;
  std::string text;  // as the JSON text of the row held it
};

std::string json_quoted(std::string_view s) {
  std::string out;
  extract::append_json_string(out, s);
  return out;
}

std::vector<Cell> cells() {
  using W = sql::RowWriter;
  auto n = [](const char* t) { return [t](W& w) { w.number(t); }; };
  auto r = [](double d) { return [d](W& w) { w.real(d); }; };
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {[](W& w) { w.string("Zoë \"q\" \\ / \n\t\x01 東京 €"); },
       json_quoted("Zoë \"q\" \\ / \n\t\x01 東京 €")},
      {[](W& w) { w.string(std::string_view("nul\0byte", 8)); },
       json_quoted(std::string_view("nul\0byte", 8))},
      {[](W& w) { w.string("bad \xff\xfe utf8 \xc3"); },
       json_quoted("bad \uFFFD\uFFFD utf8 \uFFFD")},
      {[](W& w) { w.string(""); }, "\"\""},
      {[](W& w) { w.null(); }, "null"},
      {[](W& w) { w.boolean(true); }, "true"},
      {[](W& w) { w.boolean(false); }, "false"},
      {n("12.50"), "12.50"},
      {n("-0"), "-0"},
      {n("-0.0"), "-0.0"},
      {n("0"), "0"},
      {n("123456789012345678"), "123456789012345678"},
      {n("-123456789012345678"), "-123456789012345678"},
      {n("1.5E-7"), "1.5E-7"},
      {n("1e5"), "1e5"},
      {n("1e-400"), "1e-400"},  // below a double's range: 0, as simdjson parses it
      {n("4.9e-324"), "4.9e-324"},
      {n("NaN"), "\"NaN\""},
      {n("9223372036854775807"), "\"9223372036854775807\""},
      {n("1.234567890123456"), "\"1.234567890123456\""},
      {[](W& w) { w.integer(std::numeric_limits<long long>::min()); }, "-9223372036854775808"},
      {[](W& w) { w.integer(std::numeric_limits<long long>::max()); }, "9223372036854775807"},
      {r(1.5), "1.5"},
      {r(-0.0), "-0"},
      {r(100.0), "100"},
      {r(1e300), "1e+300"},
      {r(5e-324), "5e-324"},
      {r(123456789012345678.0), "123456789012345680"},
      {r(12345678901234567890.0), "12345678901234567168"},  // past int64: unsigned
      {r(std::nan("")), "\"NaN\""},
      {r(inf), "\"Infinity\""},
      {r(-inf), "\"-Infinity\""},
      {[](W& w) { w.timestamp("2024-05-01 10:00:00+00", true); }, "\"2024-05-01T10:00:00Z\""},
      {[](W& w) { w.timestamp("2024-05-01 10:00:00.123456-05", true); },
       "\"2024-05-01T10:00:00.123456-05:00\""},
      {[](W& w) { w.timestamp("2024-05-01T10:00:00+05:30", true); },
       "\"2024-05-01T10:00:00+05:30\""},
      {[](W& w) { w.timestamp("2024-05-01 10:00:00-00:00", false); }, "\"2024-05-01T10:00:00Z\""},
      {[](W& w) { w.timestamp("2024-05-01 10:00:00", true); }, "\"2024-05-01T10:00:00Z\""},
      {[](W& w) { w.timestamp("2024-05-01 10:00:00", false); }, "\"2024-05-01T10:00:00\""},
      {[](W& w) { w.timestamp("1900-01-01 00:00:00+00:53:28", true); },
       "\"1900-01-01 00:00:00+00:53:28\""},
      {[](W& w) { w.timestamp("infinity", true); }, "\"infinity\""},
      {[](W& w) { w.bytes(std::string_view("\x00\xff\x10", 3)); }, "\"AP8Q\""},
      {[](W& w) { w.raw_json(R"({"a":[1,2.5,"x",null,true,{"b":{}}],"c":[],"a":-0})"); },
       R"({"a":[1,2.5,"x",null,true,{"b":{}}],"c":[],"a":-0})"},
      {[](W& w) { w.raw_json(" \"str\" "); }, " \"str\" "},
      {[](W& w) { w.raw_json("18446744073709551615"); }, "18446744073709551615"},
  };
}

const std::vector<std::string> kCellNames = {"a", "a", "Zoë", "q\"uote", "bad\xff"};

std::string cell_name(size_t i) {
  return i < kCellNames.size() ? kCellNames[i] : "c" + std::to_string(i);
}

std::vector<extract::ColumnSpec> cell_columns() {
  return {{"first_a", extract::JsonPath::compile("$.a").value()},
          {"zoe", extract::JsonPath::compile("$['Zoë']").value()},
          {"json_b", extract::JsonPath::compile("$.c41.a[5].b").value()},
          {"every_a", extract::JsonPath::compile("$..a").value()},
          {"stamp", extract::JsonPath::compile("$.c32").value()}};
}

// Value types as well as text: to_json() prints the int 100 and the double 100.0 alike.
std::string typed(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  std::string out;
  switch (e.type()) {
    case T::ARRAY: {
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (auto item : items) out += typed(item) + ",";
      return "[" + out + "]";
    }
    case T::OBJECT: {
      const simdjson::dom::object members = e.get_object().value_unsafe();
      for (auto f : members) out += std::string(f.key) + ":" + typed(f.value) + ",";
      return "{" + out + "}";
    }
    case T::INT64:
      return "l" + std::to_string(e.get_int64().value_unsafe());
    case T::UINT64:
      return "u" + std::to_string(e.get_uint64().value_unsafe());
    case T::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return "d" + std::to_string(bits);
    }
    default:
      extract::append_json(out, e);
      return out;
  }
}

std::string typed(const extract::RecordSet& set) {
  std::string out;
  for (size_t i = 0; i < set.size(); ++i) {
    out += typed(set[i].json().root()) + " |";
    for (size_t c = 0; c < set.column_names().size(); ++c) {
      auto v = set[i].column(c);
      out += (v ? typed(v->root()) : "-") + "|";
    }
    out += "\n";
  }
  return out;
}

// `rows` rows of every cell (and one column more than the names, written as "?") both ways.
void expect_same_as_json_text(size_t rows, size_t rows_per_page = sql::RowWriter::kRowsPerPage) {
  const auto list = cells();
  const auto columns = cell_columns();
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) names.push_back(cell_name(i));
  sql::RowWriter w(rows, &columns, rows_per_page);
  w.set_columns(names);
  extract::RecordSet expected;
  const auto all = extract::JsonPath::compile("$[*]").value();
  std::string page;
  for (size_t row = 0; row < rows; ++row) {
    ASSERT_TRUE(w.begin_row().ok());
    page += page.empty() ? "[{" : ",{";
    for (size_t i = 0; i < list.size(); ++i) {
      list[i].write(w);
      std::string clean_name = cell_name(i) == "bad\xff" ? "bad\uFFFD" : cell_name(i);
      page += (i ? "," : "") + json_quoted(clean_name) + ":" + list[i].text;
    }
    w.integer(static_cast<long long>(row));
    page += ",\"?\":" + std::to_string(row) + "}";
    ASSERT_TRUE(w.end_row().ok());
    if ((row + 1) % rows_per_page == 0 || row + 1 == rows) {
      ASSERT_TRUE(expected.append_page(page + "]", all, columns).ok());
      page.clear();
    }
  }
  auto built = w.finish();
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_EQ((*built)->size(), rows);
  EXPECT_EQ((*built)->page_count(), expected.page_count());
  EXPECT_EQ((*built)->column_names(), expected.column_names());
  EXPECT_EQ((*built)->to_json(), expected.to_json());
  EXPECT_EQ(typed(**built), typed(expected));
  EXPECT_LE((*built)->memory_bytes(), expected.memory_bytes());
}

TEST(RowWriter, EveryCellTypeGivesTheRecordsItsJsonTextGave) {
  expect_same_as_json_text(1);
}

TEST(RowWriter, PagesOfManyRowsGiveTheRecordsTheirJsonTextGave) {
  expect_same_as_json_text(2 * 1000 + 3, 1000);
}

TEST(RowWriter, NoRowsGiveAnEmptySetWithoutPages) {
  const auto columns = cell_columns();
  sql::RowWriter w(10, &columns);
  w.set_columns({"a"});
  auto set = w.finish();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->size(), 0u);
  EXPECT_EQ((*set)->page_count(), 0u);
  EXPECT_EQ((*set)->to_json(), "[]");
}

// What the JSON text of the row could not hold fails the fetch with the parse's error, as then.
TEST(RowWriter, ValuesNoJsonTextHoldsFailWithTheParseError) {
  const std::vector<std::pair<std::function<void(sql::RowWriter&)>, std::string>> bad = {
      {[](sql::RowWriter& w) { w.raw_json("{\"a\":"); }, "extract.json"},
      {[](sql::RowWriter& w) { w.raw_json(""); }, "extract.json"},
      {[](sql::RowWriter& w) { w.raw_json(std::string(1100, '[') + std::string(1100, ']')); },
       "extract.depth"},
      {[](sql::RowWriter& w) { w.number("1e400"); }, "extract.json"},
      {[](sql::RowWriter& w) { w.real(1.8446744073709552e19); }, "extract.json"},
  };
  for (const auto& [write, code] : bad) {
    sql::RowWriter w(10, nullptr);
    w.set_columns({"v"});
    ASSERT_TRUE(w.begin_row().ok());
    write(w);
    auto ended = w.end_row();
    ASSERT_FALSE(ended.ok());
    EXPECT_EQ(ended.error().code, code);
    EXPECT_FALSE(w.finish().ok());
  }
}

// A SQLite file made here, read through the source.
class SqliteSource : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::temp_directory_path() / ("extdata-sql-unit-" + std::to_string(::getpid()));
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
  EXPECT_EQ(
      f_.code(
          {{"driver", "sqlite"}, {"path", (root_ / "link.db").string()}, {"query", "SELECT 1"}}),
      "file.outside_root");
  // A relative path is taken in the first root.
  auto r =
      fetch({{"driver", "sqlite"}, {"path", "t.db"}, {"query", "SELECT count(*) AS n FROM t"}});
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
