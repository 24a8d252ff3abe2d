// Runs the real `extdata query` binary (built next to the tests by `make test`).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Outcome {
  int exit_code;
  std::string stdout_text;
};

std::string binary() {
  return std::string(EXTDATA_BINARY_DIR) + "/extdata";
}

Outcome run(const std::string& arguments, const std::string& stdin_text = "") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("extdata-query-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto input = dir / "stdin";
  std::ofstream(input, std::ios::binary) << stdin_text;
  const std::string command = binary() + " " + arguments + " < " + input.string() + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  Outcome outcome{-1, ""};
  if (!pipe) return outcome;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    outcome.stdout_text.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove_all(dir);
  return outcome;
}

class QueryCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(binary())) << binary() << " is not built (run `make test`)";
  }
};

TEST_F(QueryCommand, PrintsValuesFromStdin) {
  const auto out = run("query '$.value[*].fields.Title'",
                       R"({"value":[{"fields":{"Title":"A"}},{"fields":{"Title":"B"}}]})");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.stdout_text, "[\n  \"A\",\n  \"B\"\n]\n");
}

TEST_F(QueryCommand, PrintsNormalizedPaths) {
  const auto out = run("query --paths '$..b'", R"({"a":{"b":1}})");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.stdout_text, "[\n  \"$['a']['b']\"\n]\n");
}

TEST_F(QueryCommand, CsvAndXml) {
  const auto csv = run("query --csv '$[*].b'", "a;b\n1;\"x;y\"\n");
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.stdout_text, "[\n  \"x;y\"\n]\n");
  const auto xml =
      run("query --xml --ns a=urn:a '//a:i'", "<r xmlns=\"urn:a\"><i>1</i><i>2</i></r>");
  EXPECT_EQ(xml.exit_code, 0);
  EXPECT_EQ(xml.stdout_text, "[\"1\",\"2\"]\n");
}

TEST_F(QueryCommand, ExitCodes) {
  EXPECT_EQ(run("query '$[' ", "[]").exit_code, 1);             // bad expression
  EXPECT_EQ(run("query '$'", "[1").exit_code, 1);               // bad input
  EXPECT_EQ(run("query --csv '$'", "a\n\"open").exit_code, 1);  // bad CSV
  EXPECT_EQ(run("query").exit_code, 2);                         // usage
  EXPECT_EQ(run("query '$' /nonexistent/file.json").exit_code, 1);
}

}  // namespace
