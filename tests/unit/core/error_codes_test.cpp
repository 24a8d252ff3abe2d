#include "core/error_codes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error_json.h"
#include "core/redact.h"

namespace extdata {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "area.name": the shape of every error code (and of a few other literals, filtered below).
bool looks_like_code(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= s.size()) return false;
  if (s.find('.', dot + 1) != std::string_view::npos) return false;
  auto lower_word = [](std::string_view w, bool underscores) {
    if (w.empty() || w[0] < 'a' || w[0] > 'z') return false;
    for (char c : w)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (underscores && c == '_')))
        return false;
    return true;
  };
  return lower_word(s.substr(0, dot), false) && lower_word(s.substr(dot + 1), true);
}

struct Literal {
  std::string text;
  std::string before;  // the code before the literal on its statement, comments removed
  size_t line;
};

// The string literals of a C++ file, outside comments, with what precedes each one.
std::vector<Literal> string_literals(const std::string& src) {
  std::vector<Literal> out;
  std::string code;  // the file so far without comments and literal contents
  size_t line = 1;
  for (size_t i = 0; i < src.size(); ++i) {
    const char c = src[i];
    if (c == '\n') ++line;
    if (c == '/' && i + 1 < src.size() && src[i + 1] == '/') {
      while (i < src.size() && src[i] != '\n') ++i;
      ++line;
      code += '\n';
    } else if (c == '/' && i + 1 < src.size() && src[i + 1] == '*') {
      const size_t end = src.find("*/", i + 2);
      for (size_t j = i; j < end && j < src.size(); ++j) line += src[j] == '\n';
      i = end == std::string::npos ? src.size() : end + 1;
    } else if (c == '\'') {
      for (++i; i < src.size() && src[i] != '\''; ++i)
        if (src[i] == '\\') ++i;
    } else if (c == '"' && i > 0 && src[i - 1] == 'R') {
      const size_t open = src.find('(', i);
      const std::string close = ")" + src.substr(i + 1, open - i - 1) + "\"";
      const size_t end = src.find(close, open);
      for (size_t j = i; j < end; ++j) line += src[j] == '\n';
      i = end + close.size() - 1;
    } else if (c == '"') {
      std::string text;
      for (++i; i < src.size() && src[i] != '"'; ++i) {
        if (src[i] == '\\') text += src[i++];
        text += src[i];
      }
      const size_t statement = code.find_last_of(";{}");
      out.push_back({text, code.substr(statement == std::string::npos ? 0 : statement + 1), line});
      code += "\"\"";
    } else {
      code += c;
    }
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  const size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Literals shaped like codes that are not error codes.
bool is_not_an_error_code(const Literal& l) {
  const std::string before = trimmed(l.before);
  const size_t line_start = before.rfind('\n');
  if (trimmed(before.substr(line_start == std::string::npos ? 0 : line_start)).starts_with("#"))
    return true;  // #include "graphsim.h"
  // The first argument of log::warn( ... ): log events ("cache.fetch_failed") name log lines.
  const size_t log = before.rfind("log::");
  if (log != std::string::npos && before.ends_with('(') &&
      before.find_first_of("(),", log) == before.size() - 1)
    return true;
  static const std::set<std::string> kOther = {
      "graph.microsoft",  // host names (sharepoint/site_address.cpp)
      "microsoft365.com",  "microsoftonline.com", "office.com",
      "index.html",         // a file name (cli/serve_commands.cpp)
      "odbc.ini",           // unixODBC's configuration files (sources/sql/odbc.cpp)
      "odbcinst.ini",
      "pagination.cursor",  // config key paths in Error details
      "pagination.type",
  };
  return kOther.count(l.text) > 0;
}

TEST(ErrorCodes, EveryCodeRaisedUnderSrcAndGraphsimIsRegistered) {
  const fs::path root = EXTDATA_SOURCE_DIR;
  std::set<std::string> seen;
  std::vector<std::string> missing;
  for (const char* dir : {"src", "tools/graphsim"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".h") continue;
      for (const auto& lit : string_literals(read_file(entry.path()))) {
        if (!looks_like_code(lit.text) || is_not_an_error_code(lit)) continue;
        seen.insert(lit.text);
        if (!find_error_code(lit.text))
          missing.push_back(lit.text + " (" + fs::relative(entry.path(), root).string() + ":" +
                            std::to_string(lit.line) + ")");
      }
    }
  }
  EXPECT_TRUE(missing.empty()) << "codes raised but not in src/core/error_codes.cpp:\n"
                               << [&] {
                                    std::string all;
                                    for (const auto& m : missing) all += "  " + m + "\n";
                                    return all;
                                  }();
  // The walk found the codes (a broken scanner would pass the check above vacuously).
  EXPECT_GT(seen.size(), 140u);
  EXPECT_TRUE(seen.count("source.variable_missing"));
  EXPECT_TRUE(seen.count("auth.secret_expired"));  // raised from a table, not Error(...)
  // Every registered code is raised somewhere: the registry holds no dead entries.
  for (const auto& info : error_codes())
    EXPECT_TRUE(seen.count(std::string(info.code)))
        << info.code << " is registered but never raised";
}

TEST(ErrorCodes, RegistryIsSortedAndEveryEntryHasACategoryAndAMeaning) {
  const auto codes = error_codes();
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_TRUE(looks_like_code(codes[i].code)) << codes[i].code;
    EXPECT_FALSE(codes[i].meaning.empty()) << codes[i].code;
    EXPECT_EQ(codes[i].meaning.find('\n'), std::string_view::npos) << codes[i].code;
    EXPECT_EQ(category_info(codes[i].category).category, codes[i].category) << codes[i].code;
    if (i > 0) EXPECT_LT(codes[i - 1].code, codes[i].code) << "not sorted or a duplicate";
  }
}

TEST(ErrorCodes, EveryCategoryHasAStatusAnExitCodeAndAMeaning) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(ErrorCategory::internal); ++c) {
    const auto category = static_cast<ErrorCategory>(c);
    const CategoryInfo& info = category_info(category);
    EXPECT_EQ(info.category, category) << "no entry for category " << c;
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.http_status, 400);
    EXPECT_GE(info.exit_code, 1);
    EXPECT_FALSE(info.meaning.empty());
  }
  EXPECT_EQ(error_categories().size(), names.size());
}

TEST(ErrorCodes, TheCategoryAloneDecidesStatusAndExitCode) {
  EXPECT_EQ(http_status(Error("source.variable_missing", "missing required variable 'x'")), 400);
  EXPECT_EQ(http_status(Error("api.unauthenticated", "")), 401);
  EXPECT_EQ(http_status(Error("api.forbidden", "")), 403);
  EXPECT_EQ(http_status(Error("sharepoint.list_not_found", "")), 502);  // upstream, not ours
  EXPECT_EQ(http_status(Error("http.timeout", "")), 504);
  EXPECT_EQ(http_status(Error("store.in_use", "")), 409);
  EXPECT_EQ(exit_code(Error("cli.usage", "")), 2);
  EXPECT_EQ(exit_code(Error("config.invalid", "")), 1);
  // A code serving two kinds says so at the raise site.
  EXPECT_EQ(http_status(Error("auth.invalid_scope", "")), 502);
  EXPECT_EQ(http_status(Error("auth.invalid_scope", "").as(ErrorCategory::invalid_input)), 400);
  // Unregistered codes are a bug: internal, never a guess.
  EXPECT_EQ(Error("nowhere.unknown", "").category(), ErrorCategory::internal);
  EXPECT_EQ(http_status(Error("nowhere.unknown", "")), 500);
}

TEST(ErrorJson, OneShapeRedactedOnce) {
  Error e("auth.invalid_client", "rejected client_secret=s3cr3t-value-1",
          "check Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl");
  e.with("body", "{\"access_token\": \"tok-123456\"}");
  const auto j = to_json(e);
  EXPECT_EQ(j["code"], "auth.invalid_client");
  EXPECT_EQ(j["category"], "upstream");
  EXPECT_EQ(j.dump().find("s3cr3t-value-1"), std::string::npos) << j.dump();
  EXPECT_EQ(j.dump().find("eyJzdWIiOiIxIn0"), std::string::npos) << j.dump();
  EXPECT_EQ(j.dump().find("tok-123456"), std::string::npos) << j.dump();
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"code", "category", "message", "hint", "upstream"}));
  // Empty hint and details keep their keys: clients read one shape.
  const auto bare = to_json(Error("field.not_found", "no field named 'x'"));
  EXPECT_EQ(bare["hint"], "");
  EXPECT_TRUE(bare["upstream"].is_object() && bare["upstream"].empty());
  EXPECT_EQ(error_document(e), (nlohmann::json{{"ok", false}, {"error", j}}));
}

TEST(ErrorCodes, DocsErrorsMdIsGeneratedFromTheRegistry) {
  const auto path = fs::path(EXTDATA_SOURCE_DIR) / "docs" / "errors.md";
  EXPECT_TRUE(read_file(path) == errors_markdown())
      << "docs/errors.md is out of date; regenerate it with:\n"
      << "  build/test/extdata errors > docs/errors.md";
}

}  // namespace
}  // namespace extdata
