// Issue 17, item 2: `type: file` — a CSV, JSON or XML file under a files root, or at a URL,
// read again only when it changed.
#include "sources/file/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "sources/file/files_root.h"
#include "sources/kinds.h"

namespace extdata::sources {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Records every request; answers what the test queued (200 with an ETag, then 304, ...).
class ConditionalServer final : public http::HttpClient {
 public:
  Result<http::Response> send(const http::Request& request) override {
    std::lock_guard lock(mu_);
    requests.push_back(request);
    http::Response r = answers.at(std::min(requests.size(), answers.size()) - 1);
    return r;
  }
  std::mutex mu_;
  std::vector<http::Request> requests;
  std::vector<http::Response> answers;
};

struct FileFixture {
  fs::path root;
  ManualClock clock;
  Metrics metrics;
  std::shared_ptr<ConditionalServer> server = std::make_shared<ConditionalServer>();
  std::shared_ptr<const FilesRoots> saved = FilesRoots::process();

  FileFixture() {
    char pattern[] = "/tmp/extdata-file-source.XXXXXX";
    root = ::mkdtemp(pattern);
    FilesRoots::set_process(std::make_shared<FilesRoots>(FilesRoots::parse(root.string()).value()));
  }
  ~FileFixture() {
    FilesRoots::set_process(saved);
    fs::remove_all(root);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(root / name, std::ios::trunc) << text;
  }
  Result<std::shared_ptr<Source>> make(json spec) {
    spec["type"] = "file";
    SourceDeps deps{clock, metrics, nullptr,
                    [s = server](const config::SourceConfig&) { return s; }};
    auto config = config::parse_source(spec.dump(), "customers");
    if (!config.ok()) return config.error();
    return make_source(*config, deps);
  }
  long long counter(const std::string& name) {
    return metrics.counter_value(name, {{"source", "customers"}});
  }
};

std::string column(const extract::RecordSet& set, size_t i, const std::string& name) {
  const auto record = set[i].json();
  auto v = record.root()[name];
  if (v.error()) return "<missing>";
  return std::string(v.get_string().value());
}

TEST(FileSource, ReadsACsvFileUnderTheRootWithAccentsAndEmptyCells) {
  FileFixture f;
  const std::string text = "id;name;country\n1;Müller Präzisionstechnik GmbH;DE\n2;Ørsted A/S;\n";
  f.write("customers.csv", text);
  auto source = f.make({{"path", "customers.csv"}, {"delimiter", ";"}});
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  FetchTrace trace;
  auto records = (*source)->fetch({}, &trace);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ((*records)->size(), 2u);
  EXPECT_EQ(column(**records, 0, "name"), "Müller Präzisionstechnik GmbH");
  EXPECT_EQ(column(**records, 1, "country"), "");
  ASSERT_EQ(trace.steps.size(), 1u);
  EXPECT_EQ(trace.steps[0].url, (f.root / "customers.csv").string());
  EXPECT_NE(trace.steps[0].step.find("read " + std::to_string(text.size()) + " bytes"),
            std::string::npos)
      << trace.steps[0].step;
}

TEST(FileSource, AnUnchangedFileIsNotReadAgainAndAChangedOneIs) {
  FileFixture f;
  f.write("list.json", R"([{"id":1,"name":"a"}])");
  auto source = f.make({{"path", "list.json"}}).value();
  auto first = source->fetch({});
  ASSERT_TRUE(first.ok());
  auto second = source->fetch({});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get()) << "the same records, not parsed again";
  EXPECT_EQ(f.counter("extdata_file_reads_total"), 1);
  EXPECT_EQ(f.counter("extdata_file_unchanged_total"), 1);

  // Published the safe way: a new file renamed over the old one.
  std::ofstream(f.root / "next.json") << R"([{"id":1,"name":"a"},{"id":2,"name":"b"}])";
  fs::rename(f.root / "next.json", f.root / "list.json");
  auto third = source->fetch({});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->size(), 2u);
  EXPECT_EQ(f.counter("extdata_file_reads_total"), 2);
}

TEST(FileSource, JsonRecordsAndColumnsWorkAsForRest) {
  FileFixture f;
  f.write("export.json", R"({"data":{"items":[{"code":"DE","label":{"en":"Germany"}}]}})");
  auto source = f.make({{"path", "export.json"},
                        {"records", "$.data.items[*]"},
                        {"columns", {{"title", "label.en"}}}})
                    .value();
  auto records = source->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ((*records)->size(), 1u);
  auto title = (**records)[0].column("title");
  ASSERT_TRUE(title.has_value());
  EXPECT_EQ(std::string(title->root().get_string().value()), "Germany");
}

TEST(FileSource, XmlIsReadByItsExtension) {
  FileFixture f;
  f.write("products.xml", "<products><p><sku>A1</sku></p><p><sku>B2</sku></p></products>");
  auto source =
      f.make({{"path", "products.xml"}, {"records", "//p"}, {"columns", {{"sku", "sku"}}}});
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  auto records = (*source)->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 2u);
}

TEST(FileSource, MaxRecordsKeepsTheFirstAndSaysSo) {
  FileFixture f;
  f.write("many.csv", "id\n1\n2\n3\n4\n");
  auto source = f.make({{"path", "many.csv"}, {"max_records", 2}}).value();
  FetchTrace trace;
  auto records = source->fetch({}, &trace);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)->size(), 2u);
  ASSERT_EQ(trace.warnings.size(), 1u);
  EXPECT_NE(trace.warnings[0].find("max_records"), std::string::npos);
}

TEST(FileSource, APathOutsideTheRootIsRefusedWhenTheSourceIsBuilt) {
  FileFixture f;
  auto source = f.make({{"path", "/etc/passwd"}});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().code, "file.outside_root");
  EXPECT_EQ(source.error().details.at("key"), "path");
  EXPECT_TRUE(f.server->requests.empty());
}

TEST(FileSource, NeedsExactlyOneOfPathAndUrl) {
  FileFixture f;
  auto both = f.make({{"path", "a.csv"}, {"url", "https://files.example.com/a.csv"}});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("exactly one of path and url"), std::string::npos)
      << both.error().message;
  auto neither = f.make({{"format", "csv"}});
  ASSERT_FALSE(neither.ok());
  auto auth_on_path = f.make({{"path", "a.csv"}, {"auth", {{"type", "none"}}}});
  ASSERT_FALSE(auth_on_path.ok());
  EXPECT_NE(auth_on_path.error().message.find("url only"), std::string::npos);
}

TEST(FileSource, AFileUrlIsRefused) {
  FileFixture f;
  auto source = f.make({{"url", "file:///etc/passwd"}});
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().to_string().find("https://"), std::string::npos)
      << source.error().to_string();
}

TEST(FileSource, AUrlIsAskedConditionallyAndA304KeepsTheRecords) {
  FileFixture f;
  f.server->answers = {
      http::Response{
          .status = 200,
          .headers = {{"ETag", "\"v1\""}, {"Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT"}},
          .body = "id,name\n1,Åsa\n"},
      http::Response{.status = 304}};
  auto source = f.make({{"url", "https://files.example.com/exports/customers.csv"}}).value();
  auto first = source->fetch({});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(column(**first, 0, "name"), "Åsa");
  auto second = source->fetch({});
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(first->get(), second->get());
  ASSERT_EQ(f.server->requests.size(), 2u);
  EXPECT_FALSE(http::find_header(f.server->requests[0].headers, "If-None-Match").has_value());
  EXPECT_EQ(http::find_header(f.server->requests[1].headers, "If-None-Match").value_or(""),
            "\"v1\"");
  EXPECT_EQ(http::find_header(f.server->requests[1].headers, "If-Modified-Since").value_or(""),
            "Tue, 01 Dec 2026 10:00:00 GMT");
}

TEST(FileSource, IsAKindOfTheCatalog) {
  auto kinds = source_kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "file"), kinds.end());
}

}  // namespace
}  // namespace extdata::sources
