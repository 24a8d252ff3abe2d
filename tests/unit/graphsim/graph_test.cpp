// Graph v1.0 SharePoint routes and Graph's authorization errors.
#include <gtest/gtest.h>

#include <set>

#include "helpers.h"

namespace graphsim::testing {
namespace {

using extdata::server::Response;

const std::string kSalesPath = "/v1.0/sites/contoso.sharepoint.com:/sites/Sales";
const std::string kCustomers = "/v1.0/sites/" + std::string(kSalesSiteId) + "/lists/Customers";

class GraphsimGraph : public ::testing::Test {
 protected:
  void SetUp() override {
    s = make_sim();
    token = token_for(*s->sim, kAppId, kSecret);
  }
  Response get(const std::string& target, extdata::server::Headers extra = {}) {
    return s->sim->handle(graph_get(target, token, std::move(extra)));
  }
  std::unique_ptr<Sim> s;
  std::string token;
};

nlohmann::json expect_graph_error(const Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto j = body_json(r);
  EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
  auto inner = j["error"]["innerError"];
  EXPECT_EQ(inner.value("date", "").rfind("2026-06-01T", 0), 0u) << r.body;  // no zone suffix
  EXPECT_EQ(inner.value("date", "").size(), 19u);
  EXPECT_TRUE(is_guid(inner.value("request-id", ""))) << r.body;
  EXPECT_TRUE(inner.contains("client-request-id"));
  return j;
}

TEST_F(GraphsimGraph, SiteByPathByIdAndRoot) {
  auto r = get(kSalesPath);
  ASSERT_EQ(r.status, 200) << r.body;
  auto site = body_json(r);
  EXPECT_EQ(site["id"], kSalesSiteId);
  EXPECT_EQ(site["displayName"], "Sales");
  EXPECT_EQ(site["name"], "Sales");
  EXPECT_EQ(site["webUrl"], "https://contoso.sharepoint.com/sites/Sales");
  EXPECT_FALSE(site.contains("root"));
  // Path lookup is case-insensitive like SharePoint URLs.
  EXPECT_EQ(body_json(get("/v1.0/sites/Contoso.SharePoint.com:/sites/sales"))["id"], kSalesSiteId);
  // The id goes back into the path percent-encoded.
  EXPECT_EQ(body_json(get("/v1.0/sites/"
                          "contoso.sharepoint.com%2C6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c03%"
                          "2C7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d04"))["id"],
            kSalesSiteId);
  auto root = body_json(get("/v1.0/sites/root"));
  EXPECT_TRUE(root.contains("root"));
  EXPECT_EQ(root["webUrl"], "https://contoso.sharepoint.com");
}

TEST_F(GraphsimGraph, UnknownSiteAndListAre404) {
  auto j = expect_graph_error(get("/v1.0/sites/contoso.sharepoint.com:/sites/Nope"), 404,
                              "itemNotFound");
  EXPECT_EQ(j["error"]["message"], "Requested site could not be found");
  j = expect_graph_error(get(kCustomers.substr(0, kCustomers.size() - 9) + "Nope/items"), 404,
                         "itemNotFound");
  EXPECT_EQ(j["error"]["message"], "The specified list was not found");
  expect_graph_error(get("/v1.0/sites/contoso.sharepoint.com,00000000-0000-4000-8000-000000000000,"
                         "00000000-0000-4000-8000-000000000001"),
                     404, "itemNotFound");
}

TEST_F(GraphsimGraph, UnknownSegmentIsBadRequest) {
  auto j = expect_graph_error(get("/v1.0/sites/root/drives"), 400, "BadRequest");
  EXPECT_EQ(j["error"]["message"], "Resource not found for the segment 'drives'.");
  expect_graph_error(get("/v1.0/me"), 400, "BadRequest");
  expect_graph_error(get("/beta/sites/root"), 400, "BadRequest");
}

TEST_F(GraphsimGraph, ListsHideSystemListsUnlessSelected) {
  auto lists = body_json(get(kSalesPath + ":/lists"))["value"];
  std::set<std::string> names;
  for (const auto& l : lists) names.insert(l["displayName"]);
  EXPECT_EQ(names, (std::set<std::string>{"Customers", "Countries", "Cities", "Workflow Tasks"}));
  for (const auto& l : lists) {
    if (l["displayName"] == "Workflow Tasks") {
      EXPECT_EQ(l["list"]["hidden"], true);
    }
    if (l["displayName"] == "Customers") {
      EXPECT_EQ(l["list"]["template"], "genericList");
      EXPECT_EQ(l["webUrl"], "https://contoso.sharepoint.com/sites/Sales/Lists/Customers");
      EXPECT_EQ(l["@odata.etag"].get<std::string>().front(), '"');
    }
  }
  auto with_system =
      body_json(get(kSalesPath + ":/lists?$select=name,displayName,system,list"))["value"];
  ASSERT_EQ(with_system.size(), 5u);
  bool saw_system = false;
  for (const auto& l : with_system) {
    EXPECT_FALSE(l.contains("webUrl"));  // not selected
    if (l["displayName"] == "User Information List") {
      saw_system = true;
      EXPECT_TRUE(l.contains("system"));
    }
  }
  EXPECT_TRUE(saw_system);
  auto filtered =
      body_json(get(kSalesPath + ":/lists?$filter=displayName%20eq%20'Cities'"))["value"];
  ASSERT_EQ(filtered.size(), 1u);
  expect_graph_error(get(kSalesPath + ":/lists?$filter=name%20eq%20'Cities'"), 400,
                     "invalidRequest");
}

TEST_F(GraphsimGraph, ListByTitleOrId) {
  auto by_title = body_json(get(kCustomers));
  EXPECT_EQ(by_title["id"], "5f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a005");
  auto by_id = body_json(get("/v1.0/sites/" + std::string(kSalesSiteId) +
                             "/lists/5F3C2B1A-9E8D-4C7B-A6F5-E4D3C2B1A005"));
  EXPECT_EQ(by_id["displayName"], "Customers");
  EXPECT_EQ(body_json(get(kSalesPath + ":/lists/Customers"))["displayName"], "Customers");
}

TEST_F(GraphsimGraph, Columns) {
  auto cols = body_json(get(kCustomers + "/columns"))["value"];
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : cols) by_name[c["name"]] = c;
  ASSERT_TRUE(by_name.count("Account_x0020_Manager"));
  EXPECT_EQ(by_name["Account_x0020_Manager"]["displayName"], "Account Manager");
  EXPECT_TRUE(by_name["Account_x0020_Manager"].contains("personOrGroup"));
  EXPECT_TRUE(by_name["Title"].contains("text"));
  EXPECT_EQ(by_name["Title"]["indexed"], true);
  EXPECT_EQ(by_name["City"]["indexed"], false);
  EXPECT_TRUE(by_name["Revenue"].contains("currency"));
  EXPECT_TRUE(by_name["Active"].contains("boolean"));
  EXPECT_TRUE(by_name["Industry"]["choice"]["choices"].is_array());
  EXPECT_EQ(by_name["Created"]["readOnly"], true);
}

TEST_F(GraphsimGraph, ItemsShapeLikeGraph) {
  auto r = get(kCustomers + "/items?expand=fields&$top=1");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body_json(r);
  ASSERT_EQ(j["value"].size(), 1u);
  auto item = j["value"][0];
  std::string tag = item["@odata.etag"];
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_EQ(item["id"], "1");
  EXPECT_EQ(item["webUrl"], "https://contoso.sharepoint.com/sites/Sales/Lists/Customers/1_.000");
  EXPECT_EQ(item["parentReference"]["siteId"], kSalesSiteId);
  EXPECT_EQ(item["contentType"]["name"], "Item");
  EXPECT_TRUE(item["createdBy"]["user"].contains("displayName"));
  // As Graph does: the expanded property's context URL in every item.
  std::string context = item["fields@odata.context"];
  EXPECT_NE(context.find("/$metadata#sites('" + std::string(kSalesSiteId) + "')/lists('"),
            std::string::npos)
      << context;
  EXPECT_NE(context.find("/items('1')/fields/$entity"), std::string::npos) << context;
  auto fields = item["fields"];
  EXPECT_EQ(fields["Title"], "Nordlicht Logistik AG");
  EXPECT_EQ(fields["Country"], "Germany");
  EXPECT_EQ(fields["Active"], true);
  EXPECT_TRUE(fields["Revenue"].is_number());
  EXPECT_EQ(fields["Account_x0020_ManagerLookupId"], "15");  // person columns: LookupId strings
  EXPECT_FALSE(fields.contains("Account_x0020_Manager"));
  EXPECT_EQ(fields["id"], "1");
  // No expand, no fields.
  auto plain = body_json(get(kCustomers + "/items?$top=1"))["value"][0];
  EXPECT_FALSE(plain.contains("fields"));
}

TEST_F(GraphsimGraph, EmptyValuesAreOmitted) {
  // Item 11 has no Revenue; item 13 has no account manager (see the demo fixture).
  auto item11 = body_json(get(kCustomers + "/items/11?expand=fields"))["fields"];
  EXPECT_FALSE(item11.contains("Revenue"));
  EXPECT_TRUE(item11.contains("Country"));
  auto item13 = body_json(get(kCustomers + "/items/13?expand=fields"))["fields"];
  EXPECT_FALSE(item13.contains("Account_x0020_ManagerLookupId"));
  expect_graph_error(get(kCustomers + "/items/999"), 404, "itemNotFound");
  auto fields = body_json(get(kCustomers + "/items/2/fields"));
  EXPECT_EQ(fields["id"], "2");
}

TEST_F(GraphsimGraph, ExpandFieldsSelect) {
  auto item =
      body_json(get(kCustomers + "/items?$expand=fields($select=Title,City)&$top=1"))["value"][0];
  auto fields = item["fields"];
  EXPECT_EQ(fields.size(), 3u) << fields.dump();  // @odata.etag + the two selected
  EXPECT_TRUE(fields.contains("Title"));
  EXPECT_TRUE(fields.contains("City"));
  expect_graph_error(get(kCustomers + "/items?$expand=driveItem"), 400, "BadRequest");
}

TEST_F(GraphsimGraph, PagingFollowsOpaqueNextLinksToTheEnd) {
  std::vector<std::string> ids;
  auto r = get(kCustomers + "/items?expand=fields&$top=25");
  int pages = 0;
  while (true) {
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = body_json(r);
    for (const auto& item : j["value"]) ids.push_back(item["id"]);
    ++pages;
    if (!j.contains("@odata.nextLink")) break;
    std::string next = j["@odata.nextLink"];
    EXPECT_NE(next.find("$skiptoken="), std::string::npos);
    EXPECT_NE(next.find("$top=25"), std::string::npos);
    r = s->sim->handle(follow(next, token));
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(ids.size(), 60u);
  EXPECT_EQ(ids.front(), "1");
  EXPECT_EQ(ids.back(), "60");
  auto by_target = s->sim->counters()["graph_requests"]["by_target"];
  for (const auto& [target, count] : by_target.items()) EXPECT_EQ(count, 1) << target;
}

TEST_F(GraphsimGraph, TopDefaultsTo200AndCapsAt5000) {
  auto fixture = load_test_fixture();
  ASSERT_TRUE(generate_items(fixture, "Customers", 6000).ok());
  s = make_sim(std::move(fixture));
  token = token_for(*s->sim, kAppId, kSecret);
  EXPECT_EQ(body_json(get(kCustomers + "/items"))["value"].size(), 200u);
  auto big = body_json(get(kCustomers + "/items?$top=99999"));
  EXPECT_EQ(big["value"].size(), 5000u);
  EXPECT_TRUE(big.contains("@odata.nextLink"));
  expect_graph_error(get(kCustomers + "/items?$top=abc"), 400, "BadRequest");
  expect_graph_error(get(kCustomers + "/items?$skiptoken=garbage"), 400, "invalidRequest");
}

TEST_F(GraphsimGraph, FilterOnIndexedColumn) {
  auto j =
      body_json(get(kCustomers + "/items?expand=fields&$filter=fields/Country%20eq%20'germany'"));
  ASSERT_EQ(j["value"].size(), 5u) << j.dump();
  for (const auto& item : j["value"]) EXPECT_EQ(item["fields"]["Country"], "Germany");
  auto quoted = body_json(get(kCustomers + "/items?expand=fields&$filter=" +
                              form({{"f", "fields/Title eq 'Crédit Côte d''Azur'"}}).substr(2)));
  ASSERT_EQ(quoted["value"].size(), 1u);
  auto starts = body_json(
      get(kCustomers + "/items?expand=fields&$filter=" +
          form({{"f", "startswith(fields/Title,'nord') or fields/Country eq 'Japan'"}}).substr(2)));
  EXPECT_EQ(starts["value"].size(), 4u);  // Nordlicht + three customers in Japan
}

TEST_F(GraphsimGraph, FilterOnNonIndexedColumnNeedsPreferHeader) {
  std::string target = kCustomers + "/items?expand=fields&$filter=fields/City%20eq%20'Lyon'";
  auto j = expect_graph_error(get(target), 400, "invalidRequest");
  EXPECT_NE(
      j["error"]["message"].get<std::string>().find("HonorNonIndexedQueriesWarningMayFailRandomly"),
      std::string::npos);
  auto ok = get(target, {{"Prefer", "HonorNonIndexedQueriesWarningMayFailRandomly"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(body_json(ok)["value"].size(), 1u);
  expect_graph_error(get(kCustomers + "/items?$filter=fields/Nope%20eq%201"), 400,
                     "invalidRequest");
  expect_graph_error(get(kCustomers + "/items?$filter=Country%20eq%20'x'"), 400, "invalidRequest");
  expect_graph_error(get(kCustomers + "/items?$filter=fields/Country%20eq"), 400, "invalidRequest");
}

TEST_F(GraphsimGraph, NonIndexedFilterPastTheThresholdFailsEvenWithPrefer) {
  auto fixture = load_test_fixture();
  ASSERT_TRUE(generate_items(fixture, "Customers", 5000).ok());
  s = make_sim(std::move(fixture));
  token = token_for(*s->sim, kAppId, kSecret);
  expect_graph_error(get(kCustomers + "/items?$filter=fields/City%20eq%20'Lyon'",
                         {{"Prefer", "HonorNonIndexedQueriesWarningMayFailRandomly"}}),
                     400, "invalidRequest");
  EXPECT_EQ(get(kCustomers + "/items?$filter=fields/Country%20eq%20'France'").status, 200);
}

TEST_F(GraphsimGraph, DeltaPagesDeltaLinkChangesAndDeletes) {
  std::vector<std::string> ids;
  auto r = get(kCustomers + "/items/delta?$top=40");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body_json(r);
  for (const auto& item : j["value"]) ids.push_back(item["id"]);
  ASSERT_TRUE(j.contains("@odata.nextLink"));
  j = body_json(s->sim->handle(follow(j["@odata.nextLink"], token)));
  for (const auto& item : j["value"]) ids.push_back(item["id"]);
  ASSERT_FALSE(j.contains("@odata.nextLink"));
  ASSERT_TRUE(j.contains("@odata.deltaLink"));
  EXPECT_EQ(ids.size(), 60u);
  std::string delta_link = j["@odata.deltaLink"];

  // Nothing changed: empty page, a deltaLink again.
  auto again = body_json(s->sim->handle(follow(delta_link, token)));
  EXPECT_TRUE(again["value"].empty());

  // Change item 5, delete item 6, add item 61 (admin endpoint).
  auto admin = [&](const std::string& method, const std::string& path, const std::string& body) {
    return s->sim->handle(
        request(method, "/_graphsim/sites/" + std::string(kSalesSiteId) + "/lists/Customers" + path,
                {}, body));
  };
  EXPECT_EQ(admin("POST", "/items", R"({"id": 5, "fields": {"City": "Freiburg"}})").status, 200);
  EXPECT_EQ(admin("DELETE", "/items/6", "").status, 200);
  auto created =
      admin("POST", "/items", R"({"fields": {"Title": "Neue Kunde GmbH", "Country": "Germany"}})");
  EXPECT_EQ(body_json(created)["id"], "61");
  EXPECT_EQ(admin("POST", "/items", R"({"fields": {"Nope": 1}})").status, 400);

  auto changes = body_json(s->sim->handle(follow(delta_link + "&expand=fields", token)));
  ASSERT_EQ(changes["value"].size(), 3u) << changes.dump();
  EXPECT_EQ(changes["value"][0]["id"], "5");
  EXPECT_EQ(changes["value"][0]["fields"]["City"], "Freiburg");
  EXPECT_EQ(changes["value"][0]["fields"]["_UIVersionString"], "2.0");
  EXPECT_EQ(changes["value"][1],
            nlohmann::json::parse(R"({"id":"6","deleted":{"state":"deleted"}})"));
  EXPECT_EQ(changes["value"][2]["id"], "61");
  // Deleted items leave list reads.
  expect_graph_error(get(kCustomers + "/items/6"), 404, "itemNotFound");
  // token=latest: no items, just a deltaLink.
  auto latest = body_json(get(kCustomers + "/items/delta?token=latest"));
  EXPECT_TRUE(latest["value"].empty());
  EXPECT_TRUE(latest.contains("@odata.deltaLink"));
}

TEST_F(GraphsimGraph, DeltaUnknownOrResetTokenIs410) {
  auto r = get(kCustomers + "/items/delta?token=bm90LWEtdG9rZW4");
  auto j = expect_graph_error(r, 410, "resyncRequired");
  auto location = extdata::http::find_header(r.headers, "Location");
  ASSERT_TRUE(location);
  EXPECT_EQ(*location, std::string(kBase) + kCustomers + "/items/delta");
  // A token that was valid becomes invalid after a reset.
  auto all = body_json(get(kCustomers + "/items/delta?$top=5000"));
  std::string delta_link = all["@odata.deltaLink"];
  EXPECT_EQ(s->sim->handle(follow(delta_link, token)).status, 200);
  EXPECT_EQ(s->sim
                ->handle(request("POST", "/_graphsim/sites/" + std::string(kSalesSiteId) +
                                             "/lists/Customers/delta/reset"))
                .status,
            200);
  expect_graph_error(s->sim->handle(follow(delta_link, token)), 410, "resyncRequired");
}

// --- authorization ---

TEST_F(GraphsimGraph, MissingMalformedExpiredAndForeignTokensAre401) {
  auto check = [&](const Response& r, const std::string& message) {
    auto j = expect_graph_error(r, 401, "InvalidAuthenticationToken");
    EXPECT_EQ(j["error"]["message"], message);
    auto www = extdata::http::find_header(r.headers, "WWW-Authenticate");
    ASSERT_TRUE(www);
    EXPECT_EQ(www->rfind("Bearer ", 0), 0u);
  };
  check(s->sim->handle(request("GET", kSalesPath)), "Access token is empty.");
  check(s->sim->handle(graph_get(kSalesPath, "garbage")),
        "CompactToken parsing failed with error code: 80049217");
  // Signed by someone else (the test certificate's key), same claims.
  auto claims = jwt_claims(token);
  std::string foreign =
      sign_jwt({{"alg", "RS256"}, {"typ", "JWT"}}, claims, test_certificate(), "RS256");
  check(s->sim->handle(graph_get(kSalesPath, foreign)),
        "Access token validation failure. Invalid signature.");
  s->clock.advance(std::chrono::seconds(3599));
  check(get(kSalesPath), "Access token has expired or is not yet valid.");
}

TEST_F(GraphsimGraph, TokenWithoutRolesIs403AccessDenied) {
  std::string no_roles = token_for(*s->sim, kNoConsentApp, kNoConsentSecret);
  auto j = expect_graph_error(s->sim->handle(graph_get(kSalesPath, no_roles)), 403, "AccessDenied");
  EXPECT_EQ(j["error"]["message"], "Either scp or roles claim need to be present in the token.");
}

TEST_F(GraphsimGraph, TokenWithOtherRolesIs403accessDenied) {
  std::string user_read = token_for(*s->sim, kUserReadApp, kUserReadSecret);
  expect_graph_error(s->sim->handle(graph_get(kSalesPath, user_read)), 403, "accessDenied");
}

TEST_F(GraphsimGraph, ClientRequestIdIsEchoed) {
  auto r = get("/v1.0/sites/contoso.sharepoint.com:/sites/Nope",
               {{"client-request-id", "11112222-3333-4444-8555-666677778888"}});
  auto j = body_json(r);
  EXPECT_EQ(j["error"]["innerError"]["client-request-id"], "11112222-3333-4444-8555-666677778888");
  EXPECT_EQ(*extdata::http::find_header(r.headers, "client-request-id"),
            "11112222-3333-4444-8555-666677778888");
}

TEST_F(GraphsimGraph, WritesAreNotSimulated) {
  auto r = s->sim->handle([&] {
    auto req = graph_get(kCustomers + "/items", token);
    req.method = "POST";
    return req;
  }());
  EXPECT_EQ(r.status, 405);
}

}  // namespace
}  // namespace graphsim::testing
