// Issue 15, row 7: ${file:} and ${env:} read the host, so only operator documents applied from
// the command line resolve them, and ${file:} reads only the operator's secrets directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "config/config.h"

namespace extdata::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string bearer_source(const std::string& token) {
  return "sources:\n  - name: s\n    type: rest\n    url: https://api.example.com/x\n"
         "    records: $\n    auth: {type: bearer, token: \"" +
         token + "\"}\n";
}

class SecretsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("extdata-secrets-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "secrets" / "nested");
    fs::create_directories(root_ / "data");
    std::ofstream(root_ / "secrets" / "token") << "in-dir-token\n";
    std::ofstream(root_ / "secrets" / "nested" / "token") << "nested-token";
    std::ofstream(root_ / "data" / "master.key") << "MASTER-KEY-BYTES";
    fs::create_symlink(root_ / "data" / "master.key", root_ / "secrets" / "escape");
    fs::create_symlink(root_ / "secrets" / "token", root_ / "secrets" / "alias");
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<ConfigFile> parse(const std::string& token) {
    return parse_config(bearer_source(token), {.secrets_dir = (root_ / "secrets").string()});
  }
  std::string issues_of(const std::string& token) {
    auto r = parse(token);
    EXPECT_FALSE(r.ok()) << token;
    return r.ok() ? "" : r.error().message;
  }

  fs::path root_;
};

TEST_F(SecretsDir, FilesInsideTheSecretsDirectoryAreRead) {
  for (const std::string ref :
       {std::string("${file:token}"), std::string("${file:nested/token}"),
        std::string("${file:alias}"), "${file:" + (root_ / "secrets" / "token").string() + "}"}) {
    auto r = parse(ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.error().message;
    EXPECT_NE(r->sources[0].spec["auth"]["token"].get<std::string>().find("token"),
              std::string::npos);
  }
  EXPECT_EQ(parse("${file:token}")->sources[0].spec["auth"]["token"], "in-dir-token");
}

TEST_F(SecretsDir, DotDotAbsolutePathsOutsideAndSymlinksOutAreRefusedWithTheKeyPath) {
  const std::string master = (root_ / "data" / "master.key").string();
  EXPECT_NE(issues_of("${file:../data/master.key}")
                .find("sources[0].auth.token (line 6): "
                      "${file:../data/master.key}: '..' is not "
                      "allowed"),
            std::string::npos);
  EXPECT_NE(issues_of("${file:nested/../token}").find("'..' is not allowed"), std::string::npos);
  EXPECT_NE(issues_of("${file:" + master + "}").find("is outside the secrets directory"),
            std::string::npos);
  EXPECT_NE(issues_of("${file:escape}").find("is outside the secrets directory"),
            std::string::npos);
  EXPECT_NE(issues_of("${file:missing}").find("cannot read file"), std::string::npos);
  EXPECT_NE(issues_of("${file:nested}").find("cannot read file"), std::string::npos);
  for (const std::string ref : {"${file:../data/master.key}", "${file:escape}"})
    EXPECT_EQ(issues_of(ref).find("MASTER-KEY-BYTES"), std::string::npos);
}

TEST_F(SecretsDir, WithoutASecretsDirectoryFileReferencesAreRefusedWithAHint) {
  auto r = parse_config(bearer_source("${file:token}"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("${file:token} needs a secrets directory"), std::string::npos);
  EXPECT_NE(r.error().hint.find("--secrets-dir DIR (or EXTDATA_SECRETS_DIR=DIR)"),
            std::string::npos)
      << r.error().hint;
}

TEST(HostReferences, TheMasterKeyVariableIsNeverResolved) {
  setenv("EXTDATA_MASTER_KEY", "MASTER", 1);
  auto r = parse_config(bearer_source("${env:EXTDATA_MASTER_KEY}"));
  unsetenv("EXTDATA_MASTER_KEY");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("the store's master key"), std::string::npos);
}

TEST(HostReferences, ApiDocumentsAreRefusedNamingTheKey) {
  auto key_of = [](const json& doc) {
    auto e = refuse_host_references(doc);
    return e ? e->code + " " + e->details.at("key") : std::string("accepted");
  };
  EXPECT_EQ(key_of({{"auth", {{"type", "bearer"}, {"token", "${file:DATA/master.key}"}}}}),
            "config.host_reference auth.token");
  EXPECT_EQ(key_of({{"url", "https://a.example.com/${env:HOME}"}}), "config.host_reference url");
  EXPECT_EQ(
      key_of({{"steps", {{{"url", "https://a.example.com"}}, {{"body", {{"x", "${env:A}"}}}}}}}),
      "config.host_reference steps[1].body.x");
  EXPECT_EQ(key_of({{"auth", {{"type", "headers"}, {"headers", {{"X-Key", "k {{ env.HOME }}"}}}}}}),
            "config.host_reference auth.headers.X-Key");
  // Outside a custom header credential "{{" is a literal brace of a template.
  EXPECT_EQ(key_of({{"headers", {{"X-Note", "{{env.HOME}}"}}}}), "accepted");
  EXPECT_EQ(key_of({{"description", "costs $5 {not a ref} ${unclosed:"}}), "accepted");
}

TEST(HostReferences, StoredAndApiSourcesKeepReferencesAsLiteralText) {
  setenv("EXTDATA_TEST_HOST_REF", "from-the-host", 1);
  auto r = parse_source(
      R"({"type":"rest","url":"https://a.example.com/","records":"$","description":"${env:EXTDATA_TEST_HOST_REF}"})",
      "s");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec["description"], "${env:EXTDATA_TEST_HOST_REF}");
  auto field = parse_field(R"({"source":"s","label":"${env:EXTDATA_TEST_HOST_REF}"})", "f", {"s"});
  ASSERT_FALSE(field.ok());
  EXPECT_NE(field.error().message.find("label"), std::string::npos) << field.error().message;
  EXPECT_NE(field.error().message.find("documents sent through the API may not use them"),
            std::string::npos);
  auto stored = field_from_json({{"name", "f"}, {"source", "s"}, {"label", "${env:X}"}}, {"s"});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->spec["label"], "${env:X}");
}

TEST(SecretBindings, NameWhereCredentialsGo) {
  auto rest = parse_source(R"({"type":"rest","url":"https://API.example.com:443/v1/{id}?a=b",
    "records":"$","steps":[{"url":"https://login.example.com/x"}],
    "auth":{"type":"oauth2","token_url":"https://login.example.com/{tenant}/token","tenant":"t1",
            "client_id":"c","client_secret":"s"}})",
                           "r");
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(secret_bindings(*rest),
            (std::map<std::string, std::string>{
                {"type", "rest"},
                {"url", "https://api.example.com"},
                {"steps[0].url", "https://login.example.com"},
                {"auth.type", "oauth2"},
                {"auth.token_url", "https://login.example.com/{tenant}/token"},
                {"auth.tenant", "t1"},
            }));
  auto sharepoint = parse_source(R"({"type":"sharepoint-list","tenant":"t","client_id":"c",
    "client_secret":"s","site":"https://contoso.sharepoint.com/sites/S","list":"L"})",
                                 "sp");
  ASSERT_TRUE(sharepoint.ok()) << sharepoint.error().message;
  EXPECT_EQ(secret_bindings(*sharepoint), (std::map<std::string, std::string>{
                                              {"type", "sharepoint-list"},
                                              {"tenant", "t"},
                                              {"authority", "https://login.microsoftonline.com"},
                                              {"graph", "https://graph.microsoft.com/v1.0"},
                                          }));
}

}  // namespace
}  // namespace extdata::config
