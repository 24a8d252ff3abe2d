// The OpenAPI document (GET /api/v1/openapi.json) and the router describe the same API.
#include "api/openapi.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "api/api_server.h"
#include "core/strings.h"

namespace extdata::api {
namespace {

using nlohmann::json;

json document() {
  return json::parse(openapi_document());
}

TEST(OpenApi, IsJsonOfVersion31) {
  const json doc = json::parse(openapi_document(), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"], "3.1.0");
}

TEST(OpenApi, EveryRouteOfTheRouterIsInTheDocumentWithItsRole) {
  const json paths = document()["paths"];
  for (const auto& r : ApiServer::route_table()) {
    const std::string method = lower(r.method);
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern << " is not in the OpenAPI document";
    ASSERT_TRUE(paths[r.pattern].contains(method)) << r.method << " " << r.pattern << " missing";
    const json& operation = paths[r.pattern][method];
    EXPECT_EQ(operation.value("x-extdata-role", "none"), r.role) << r.method << " " << r.pattern;
    EXPECT_TRUE(operation.contains("responses")) << r.method << " " << r.pattern;
  }
}

TEST(OpenApi, EveryOperationOfTheDocumentIsARouteOfTheRouter) {
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& r : ApiServer::route_table()) routes.insert({lower(r.method), r.pattern});
  const std::set<std::string> methods = {"get",   "put",  "post",   "delete",
                                         "patch", "head", "options"};
  const json doc = document();  // items() of a temporary would dangle
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [key, operation] : item.items()) {
      if (methods.count(key)) EXPECT_TRUE(routes.count({key, path})) << key << " " << path;
    }
  }
}

TEST(OpenApi, TheFlatArrayTargetsAndPreconditionsAreDescribed) {
  const json doc = document();
  EXPECT_EQ(doc["components"]["parameters"]["format"]["schema"]["enum"], json({"array"}));
  EXPECT_TRUE(doc["components"]["schemas"].contains("FlatOptions"));
  EXPECT_TRUE(doc["paths"].contains("/api/v1/targets/{name}/sync"));
  EXPECT_TRUE(doc["paths"]["/api/v1/sources/{name}"]["put"]["responses"].contains("412"));
  EXPECT_TRUE(doc["components"]["headers"].contains("ETag"));
}

}  // namespace
}  // namespace extdata::api
