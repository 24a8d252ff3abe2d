// Runs every case of the JSONPath Compliance Test Suite (tests/data/jsonpath-cts/cts.json, a
// copy of the upstream suite kept in the repository so that a clone tests itself).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "extract/jsonpath/jsonpath.h"

namespace extdata::extract {
namespace {

std::string cts_path() {
  if (const char* file = std::getenv("EXTDATA_CTS_FILE")) return file;
  return std::string(EXTDATA_SOURCE_DIR) + "/tests/data/jsonpath-cts/cts.json";
}

nlohmann::json to_json(simdjson::dom::element e) {
  return nlohmann::json::parse(simdjson::to_string(e));
}

// Returns an empty string when the case passes, otherwise why it failed.
std::string run_case(const nlohmann::json& test) {
  const std::string selector = test.at("selector").get<std::string>();
  auto path = JsonPath::compile(selector);
  if (test.value("invalid_selector", false)) {
    return path.ok() ? "accepted an invalid selector" : "";
  }
  if (!path.ok()) return "rejected: " + path.error().message;
  simdjson::dom::parser parser;
  const std::string document = test.at("document").dump();
  simdjson::dom::element root;
  if (parser.parse(document).get(root) != simdjson::SUCCESS) return "test document did not parse";

  nlohmann::json values = nlohmann::json::array();
  const auto selected = path->select(root).value();
  for (auto e : selected) values.push_back(to_json(e));
  nlohmann::json paths = nlohmann::json::array();
  const auto selected_paths = path->select_paths(root).value();
  for (auto& p : selected_paths) paths.push_back(p);

  if (test.contains("result")) {
    if (values != test["result"])
      return "values " + values.dump() + " != expected " + test["result"].dump();
    if (test.contains("result_paths") && paths != test["result_paths"]) {
      return "paths " + paths.dump() + " != expected " + test["result_paths"].dump();
    }
    return "";
  }
  // Nondeterministic order: any listed alternative is accepted.
  const auto& alternatives = test.at("results");
  for (size_t i = 0; i < alternatives.size(); ++i) {
    if (values != alternatives[i]) continue;
    if (test.contains("results_paths") && paths != test["results_paths"][i]) continue;
    return "";
  }
  return "values " + values.dump() + " match none of " + alternatives.dump();
}

TEST(JsonPathComplianceSuite, AllCasesPass) {
  std::ifstream in(cts_path());
  ASSERT_TRUE(in) << "cannot open " << cts_path();
  const nlohmann::json suite = nlohmann::json::parse(in);
  size_t passed = 0, failed = 0;
  std::ostringstream failures;
  for (const auto& test : suite.at("tests")) {
    const std::string why = run_case(test);
    if (why.empty()) {
      ++passed;
    } else {
      ++failed;
      failures << "  FAIL " << test.at("name").get<std::string>() << "  "
               << test.at("selector").dump() << ": " << why << "\n";
    }
  }
  std::cout << failures.str() << "JSONPath CTS: " << passed << " passed, " << failed << " failed\n";
  EXPECT_EQ(failed, 0u) << failures.str();
  EXPECT_GT(passed, 600u);
}

}  // namespace
}  // namespace extdata::extract
