// The catalog of kinds: the document `extdata kinds` and GET /api/v1/kinds print, the
// generated configuration reference, and the rules the kinds' tables share.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/catalog.h"
#include "config/config.h"
#include "sources/kinds.h"
#include "sources/source.h"

namespace extdata::config {
namespace {

using nlohmann::json;

const json* find_setting(const json& kind, const std::string& key) {
  for (const auto& st : kind["settings"])
    if (st["key"] == key) return &st;
  return nullptr;
}

const json& find_kind(const json& list, const std::string& type) {
  for (const auto& k : list)
    if (k["type"] == type) return k;
  static const json none;
  ADD_FAILURE() << "no kind " << type;
  return none;
}

// Every setting, nested ones included, carries the fields a UI needs to render it.
void expect_typed(const json& settings, const std::string& where) {
  static const std::set<std::string> kTypes = {
      "string", "secret",     "integer",    "number",         "boolean",
      "url",    "duration",   "date",       "choice",         "object",
      "list",   "string_map", "object_map", "string_or_list", "any"};
  for (const auto& st : settings) {
    const std::string at = where + "." + st.value("key", "?");
    ASSERT_TRUE(st["key"].is_string()) << at;
    EXPECT_TRUE(kTypes.count(st["type"].get<std::string>())) << at << ": " << st["type"];
    EXPECT_TRUE(st["required"].is_boolean()) << at;
    EXPECT_TRUE(st.contains("default")) << at;
    EXPECT_TRUE(st["secret"].is_boolean()) << at;
    EXPECT_TRUE(st["variables"].is_boolean()) << at;
    EXPECT_FALSE(st["description"].get<std::string>().empty()) << at;
    if (st["type"] == "choice") {
      EXPECT_FALSE(st["choices"].empty()) << at;
    }
    if (st.contains("settings")) expect_typed(st["settings"], at);
  }
}

TEST(Kinds, DocumentListsEveryRegisteredKindAndMethodWithTypedSettings) {
  const json doc = kinds_document();
  std::vector<std::string> sources, methods;
  for (const auto& k : doc["sources"]) sources.push_back(k["type"]);
  for (const auto& k : doc["auth"]) methods.push_back(k["type"]);
  EXPECT_EQ(sources, (std::vector<std::string>{"rest", "sharepoint-list", "file", "sql"}));
  EXPECT_EQ(methods, (std::vector<std::string>{"none", "basic", "bearer", "api_key", "headers",
                                               "ntlm", "oauth2"}));
  EXPECT_EQ(source_types(), sources);
  for (const auto& list : {doc["sources"], doc["auth"]}) {
    for (const auto& k : list) {
      EXPECT_FALSE(k["title"].get<std::string>().empty()) << k["type"];
      EXPECT_FALSE(k["description"].get<std::string>().empty()) << k["type"];
      expect_typed(k["settings"], k["type"].get<std::string>());
    }
  }
}

TEST(Kinds, SettingsSaySecretsVariablesDefaultsAndWhereAuthGoes) {
  const json doc = kinds_document();
  const json& rest = find_kind(doc["sources"], "rest");
  const json* url = find_setting(rest, "url");
  ASSERT_TRUE(url);
  EXPECT_EQ((*url)["type"], "url");
  EXPECT_TRUE((*url)["variables"].get<bool>());
  EXPECT_TRUE((*url)["default"].is_null());
  const json* auth = find_setting(rest, "auth");
  ASSERT_TRUE(auth);
  EXPECT_EQ((*auth)["one_of"], "auth");
  const json* timeout = find_setting(rest, "timeout");
  ASSERT_TRUE(timeout);
  EXPECT_EQ((*timeout)["default"], 60.0);
  EXPECT_TRUE((*timeout)["common"].get<bool>());
  EXPECT_FALSE((*url)["common"].get<bool>());

  const json& sharepoint = find_kind(doc["sources"], "sharepoint-list");
  EXPECT_TRUE((*find_setting(sharepoint, "client_secret"))["secret"].get<bool>());
  EXPECT_TRUE((*find_setting(sharepoint, "tenant"))["required"].get<bool>());
  const json& headers = find_kind(doc["auth"], "headers");
  EXPECT_TRUE((*find_setting(headers, "headers"))["secret"].get<bool>());
}

TEST(Kinds, SharePointTakesItsAppRegistrationKeysFromOAuth2) {
  const json doc = kinds_document();
  const json& sharepoint = find_kind(doc["sources"], "sharepoint-list");
  const json& oauth2 = find_kind(doc["auth"], "oauth2");
  for (const char* key :
       {"client_secret", "client_certificate", "client_secret_expires", "expiry_warning_days"}) {
    ASSERT_TRUE(find_setting(sharepoint, key)) << key;
    json setting = *find_setting(sharepoint, key);
    setting.erase("common");  // a source's settings say whether every source has them
    EXPECT_EQ(setting, *find_setting(oauth2, key)) << key;
  }
}

TEST(Kinds, TheSecretOrCertificateRuleIsTheSameForSharePointAndOAuth2) {
  auto sharepoint = parse_source(
      "type: sharepoint-list\ntenant: t\nclient_id: c\nsite: https://x.sharepoint.com/sites/A\n"
      "list: L\n",
      "sp");
  auto rest = parse_source(
      "type: rest\nurl: https://api.example.com/x\nauth:\n  type: oauth2\n"
      "  token_url: https://login.example.com/token\n  client_id: c\n",
      "r");
  ASSERT_FALSE(sharepoint.ok());
  ASSERT_FALSE(rest.ok());
  EXPECT_NE(sharepoint.error().to_string().find("client_secret"), std::string::npos);
  EXPECT_NE(sharepoint.error().to_string().find("needs client_secret or client_certificate"),
            std::string::npos)
      << sharepoint.error().to_string();
  EXPECT_NE(rest.error().to_string().find("auth.client_secret"), std::string::npos);
  EXPECT_NE(rest.error().to_string().find("needs client_secret or client_certificate"),
            std::string::npos)
      << rest.error().to_string();
}

TEST(Kinds, ConfigurationReferenceInDocsIsGeneratedFromTheTables) {
  std::ifstream in(std::string(EXTDATA_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_TRUE(committed.str() == schema_markdown())
      << "docs/configuration.md is out of date: run `make docs` (extdata config-reference > "
         "docs/configuration.md) and commit it";
}

TEST(Kinds, AnUnknownTypeNamesTheRegisteredOnes) {
  auto r = parse_source("type: sharepoint\nlist: L\n", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("sharepoint-list"), std::string::npos)
      << r.error().to_string();
}

// `extdata source list` says what each source reads in the words of its kind (SourceKind's
// summary), never a secret.
TEST(Kinds, EveryKindSumsUpAConfiguredSourceInOneLine) {
  struct Case {
    std::string yaml, line;
  };
  const std::vector<Case> cases = {
      {"type: rest\nurl: https://api.example.com/customers\n", "https://api.example.com/customers"},
      {"type: sharepoint-list\ntenant: t\nclient_id: c\nclient_secret: s3cr3t\n"
       "site: https://contoso.sharepoint.com/sites/Sales\nlist: Customers\n",
       "https://contoso.sharepoint.com/sites/Sales → Customers"},
      {"type: file\npath: /srv/data/customers.csv\nformat: csv\n", "/srv/data/customers.csv (csv)"},
      {"type: file\nurl: https://files.example.com/export.json\n",
       "https://files.example.com/export.json"},
      {"type: sql\ndriver: postgres\nconnection: postgresql://app@db.example.com:5432/crm\n"
       "password: s3cr3t\nquery: SELECT 1\n",
       "postgres app@db.example.com:5432/crm"},
      {"type: sql\ndriver: sqlite\npath: /srv/data/crm.db\nquery: SELECT 1\n",
       "sqlite /srv/data/crm.db"},
      {"type: sql\ndriver: odbc\nconnection: DSN=erp;UID=extdata\nquery: SELECT 1\n",
       "odbc DSN=erp;UID=extdata"},
  };
  std::set<std::string> types;
  for (const auto& c : cases) {
    auto cfg = parse_source(c.yaml, "s");
    ASSERT_TRUE(cfg.ok()) << c.yaml << cfg.error().to_string();
    const std::string line = sources::describe_source(*cfg);
    EXPECT_EQ(line, c.line) << c.yaml;
    EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
    types.insert(cfg->type);
  }
  for (const auto& t : sources::source_kinds()) EXPECT_TRUE(types.count(t)) << "no case for " << t;
}

}  // namespace
}  // namespace extdata::config
