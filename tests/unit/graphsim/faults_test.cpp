// Faults on demand (fixture, admin endpoint) and the counters tests assert on.
#include <gtest/gtest.h>

#include "helpers.h"

namespace graphsim::testing {
namespace {

using extdata::server::Response;

const std::string kItems = "/v1.0/sites/" + std::string(kSalesSiteId) + "/lists/Customers/items";

class GraphsimFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    s = make_sim();
    token = token_for(*s->sim, kAppId, kSecret);
  }
  Response get(const std::string& target) { return s->sim->handle(graph_get(target, token)); }
  Response put_faults(const std::string& body) {
    return s->sim->handle(request("PUT", "/_graphsim/faults", {}, body));
  }
  std::unique_ptr<Sim> s;
  std::string token;
};

TEST_F(GraphsimFaults, ThrottleEveryNthWithIntegerRetryAfter) {
  ASSERT_EQ(put_faults(R"({"throttle": {"every": 3, "status": 429, "retry_after": "2"}})").status,
            200);
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i) statuses.push_back(get(kItems).status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 429, 200, 200, 429}));
  auto r = get(kItems + "?a");
  r = get(kItems + "?b");
  r = get(kItems + "?c");
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(*extdata::http::find_header(r.headers, "Retry-After"), "2");
  auto j = body_json(r);
  EXPECT_EQ(j["error"]["code"], "activityLimitReached");
  EXPECT_TRUE(j["error"]["innerError"].contains("request-id"));
  auto counters = s->sim->counters();
  EXPECT_EQ(counters["throttled"]["total"], 3);
  EXPECT_EQ(counters["throttled"]["by_status"]["429"], 3);
}

TEST_F(GraphsimFaults, FractionalAndAbsentRetryAfterAnd503) {
  put_faults(R"({"throttle": {"every": 1, "times": 1, "retry_after": "2.128"}})");
  auto r = get(kItems);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(*extdata::http::find_header(r.headers, "Retry-After"), "2.128");
  EXPECT_EQ(get(kItems).status, 200);  // `times: 1` → only once

  put_faults(R"({"throttle": {"every": 1, "status": 503, "retry_after": null}})");
  r = get(kItems);
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(extdata::http::find_header(r.headers, "Retry-After"));
  EXPECT_EQ(body_json(r)["error"]["code"], "serviceNotAvailable");
}

TEST_F(GraphsimFaults, BadFaultBodiesAreRejectedWithTheKey) {
  auto r = put_faults(R"({"throttle": {"every": 1, "status": 500}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("faults.throttle.status"), std::string::npos) << r.body;
  r = put_faults(R"({"throttle": {"every": 1, "retry_after": "soon"}})");
  EXPECT_EQ(r.status, 400);
  r = put_faults(R"({"latency": 5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown key 'latency'"), std::string::npos) << r.body;
}

TEST_F(GraphsimFaults, LatencyIsAddedAsResponseDelay) {
  put_faults(R"({"latency_ms": 250})");
  EXPECT_EQ(get(kItems).delay, std::chrono::milliseconds(250));
  auto faults = body_json(s->sim->handle(request("GET", "/_graphsim/faults")));
  EXPECT_EQ(faults["latency_ms"], 250);
  s->sim->handle(request("DELETE", "/_graphsim/faults"));
  EXPECT_EQ(get(kItems).delay, std::chrono::milliseconds(0));
}

TEST_F(GraphsimFaults, DroppedConnectionAndTruncatedBody) {
  put_faults(R"({"drop_connection": {"every": 2, "after_bytes": 100}})");
  EXPECT_FALSE(get(kItems).close_after_body_bytes);
  auto dropped = get(kItems);
  ASSERT_TRUE(dropped.close_after_body_bytes);
  EXPECT_EQ(*dropped.close_after_body_bytes, 100u);
  EXPECT_GT(dropped.body.size(), 100u);  // full Content-Length, partial body

  put_faults(R"({"truncate_body": {"every": 1, "bytes": 50}})");
  auto truncated = get(kItems);
  EXPECT_EQ(truncated.status, 200);
  EXPECT_EQ(truncated.body.size(), 50u);
  EXPECT_TRUE(nlohmann::json::parse(truncated.body, nullptr, false).is_discarded());
  auto faults = s->sim->counters()["faults"];
  EXPECT_EQ(faults["dropped_connections"], 1);
  EXPECT_EQ(faults["truncated_bodies"], 1);
}

TEST_F(GraphsimFaults, RepeatedNextLinkPointsAtThePageJustServed) {
  put_faults(R"({"repeat_next_link": {"every": 2, "times": 1}})");
  auto first = body_json(get(kItems + "?$top=10"));
  std::string next = first["@odata.nextLink"];
  auto second = body_json(s->sim->handle(follow(next, token)));
  EXPECT_EQ(second["@odata.nextLink"], next);  // a loop a client must detect
  auto counters = s->sim->counters();
  EXPECT_EQ(counters["faults"]["repeated_next_links"], 1);
  // Following it fetches the same page twice, which by_target shows.
  s->sim->handle(follow(second["@odata.nextLink"], token));
  std::string target = next.substr(std::string(kBase).size());
  EXPECT_EQ(s->sim->counters()["graph_requests"]["by_target"][target], 2);
}

TEST_F(GraphsimFaults, TokenEndpointErrorAndHang) {
  put_faults(R"({"token_error": {"every": 1, "times": 1, "status": 500}})");
  auto body = form({{"grant_type", "client_credentials"},
                    {"client_id", kAppId},
                    {"client_secret", kSecret},
                    {"scope", "https://graph.microsoft.com/.default"}});
  auto r = s->sim->handle(token_request("contoso.onmicrosoft.com", body));
  EXPECT_EQ(r.status, 500);
  auto j = body_json(r);
  EXPECT_EQ(j["error"], "temporarily_unavailable");
  EXPECT_EQ(j["error_codes"][0], 90033);
  EXPECT_EQ(s->sim->handle(token_request("contoso.onmicrosoft.com", body)).status, 200);

  put_faults(R"({"token_hang_ms": 600000})");
  r = s->sim->handle(token_request("contoso.onmicrosoft.com", body));
  EXPECT_EQ(r.delay, std::chrono::milliseconds(600000));
  EXPECT_EQ(get(kItems).delay, std::chrono::milliseconds(0));  // Graph unaffected
}

TEST_F(GraphsimFaults, ExpireTokenOnTheNthRequestForGood) {
  // Eligible: Graph requests with an otherwise valid token; the 3rd one expires the token.
  ASSERT_EQ(put_faults(R"({"expire_token": {"every": 3, "times": 1}})").status, 200);
  EXPECT_EQ(get(kItems).status, 200);
  EXPECT_EQ(get(kItems).status, 200);
  auto r = get(kItems);
  ASSERT_EQ(r.status, 401);
  auto j = body_json(r);
  EXPECT_EQ(j["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_EQ(j["error"]["message"], "Access token has expired or is not yet valid.");
  EXPECT_TRUE(j["error"]["innerError"].contains("request-id"));
  EXPECT_TRUE(extdata::http::find_header(r.headers, "WWW-Authenticate"));
  // A real expiry is permanent: the same token stays refused, past `every` again.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(get(kItems).status, 401) << i;
  auto counters = s->sim->counters();
  EXPECT_EQ(counters["faults"]["expired_tokens"], 1);
  EXPECT_EQ(counters["graph_requests"]["by_status"]["401"], 5);
  EXPECT_EQ(counters["graph_requests"]["by_route"]["unknown"], 5);  // refused before routing

  // A newly issued token works; `times: 1` means it does not expire in turn.
  token = token_for(*s->sim, kAppId, kSecret);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(get(kItems).status, 200) << i;
  EXPECT_EQ(s->sim->counters()["faults"]["expired_tokens"], 1);
}

TEST_F(GraphsimFaults, ExpireTokenRespectsTimesAndSkipsRefusedRequests) {
  put_faults(R"({"expire_token": {"every": 2, "times": 2}})");
  std::string first = token;
  EXPECT_EQ(get(kItems).status, 200);
  EXPECT_EQ(get(kItems).status, 401);  // fire 1: `first` expires
  // Requests with an already expired token, or none, are not eligible: they do not count.
  EXPECT_EQ(get(kItems).status, 401);
  EXPECT_EQ(s->sim->handle(graph_get(kItems, "")).status, 401);
  token = token_for(*s->sim, kAppId, kSecret);
  EXPECT_EQ(get(kItems).status, 200);
  EXPECT_EQ(get(kItems).status, 401);  // fire 2: the second token expires
  token = token_for(*s->sim, kAppId, kSecret);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(kItems).status, 200) << i;  // `times` reached
  EXPECT_EQ(s->sim->counters()["faults"]["expired_tokens"], 2);
  EXPECT_EQ(s->sim->handle(graph_get(kItems, first)).status, 401);  // still expired

  auto faults = body_json(s->sim->handle(request("GET", "/_graphsim/faults")));
  EXPECT_EQ(faults["expire_token"], (nlohmann::json{{"every", 2}, {"times", 2}}));
  // Replacing the faults forgets the expired tokens.
  s->sim->handle(request("DELETE", "/_graphsim/faults"));
  EXPECT_EQ(s->sim->handle(graph_get(kItems, first)).status, 200);
  EXPECT_EQ(body_json(s->sim->handle(request("GET", "/_graphsim/faults")))["expire_token"]["every"],
            0);
}

TEST_F(GraphsimFaults, ExpireTokenKeysOnUti) {
  // Two distinct tokens: expiring one leaves the other alone.
  std::string other = token_for(*s->sim, kAppId, kSecret);
  ASSERT_NE(jwt_claims(token)["uti"], jwt_claims(other)["uti"]);
  put_faults(R"({"expire_token": {"every": 1, "times": 1}})");
  EXPECT_EQ(get(kItems).status, 401);
  EXPECT_EQ(s->sim->handle(graph_get(kItems, other)).status, 200);
  EXPECT_EQ(get(kItems).status, 401);
}

TEST_F(GraphsimFaults, ExpireTokenBadKeysAreRejected) {
  auto r = put_faults(R"({"expire_token": {"every": 1, "after": 2}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown key 'after'"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("faults.expire_token"), std::string::npos) << r.body;
  r = put_faults(R"({"expire_token": {"every": -1}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("faults.expire_token.every"), std::string::npos) << r.body;
  r = put_faults(R"({"expire_tokens": {"every": 1}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown key 'expire_tokens'"), std::string::npos) << r.body;
  EXPECT_EQ(get(kItems).status, 200);  // nothing applied
}

TEST_F(GraphsimFaults, ThrottleScopeToken) {
  put_faults(R"({"throttle": {"every": 1, "scope": "token", "retry_after": "3"}})");
  EXPECT_EQ(get(kItems).status, 200);
  auto r = s->sim->handle(token_request("contoso.onmicrosoft.com",
                                        form({{"grant_type", "client_credentials"},
                                              {"client_id", kAppId},
                                              {"client_secret", kSecret},
                                              {"scope", "https://graph.microsoft.com/.default"}})));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(*extdata::http::find_header(r.headers, "Retry-After"), "3");
}

TEST_F(GraphsimFaults, FixtureFaultsApplyFromStart) {
  auto fixture = load_test_fixture();
  fixture.faults.throttle.every = 1;
  fixture.faults.throttle.times = 1;
  s = make_sim(std::move(fixture));
  token = token_for(*s->sim, kAppId, kSecret);
  EXPECT_EQ(get(kItems).status, 429);
  EXPECT_EQ(get(kItems).status, 200);
}

TEST_F(GraphsimFaults, CountersByClientRouteAndReset) {
  token_for(*s->sim, kAppId, kSecret);
  get(kItems);
  get("/v1.0/sites/contoso.sharepoint.com:/sites/Sales");
  auto c = body_json(s->sim->handle(request("GET", "/_graphsim/counters")));
  EXPECT_EQ(c["token_requests"]["by_client"][kAppId]["issued"], 2);  // SetUp + here
  EXPECT_EQ(c["token_requests"]["issued"], 2);
  EXPECT_EQ(c["graph_requests"]["by_route"]["items"], 1);
  EXPECT_EQ(c["graph_requests"]["by_route"]["site_by_path"], 1);
  EXPECT_EQ(c["graph_requests"]["by_status"]["200"], 2);
  EXPECT_EQ(c["graph_requests"]["total"], 2);
  s->sim->handle(request("POST", "/_graphsim/counters/reset"));
  c = body_json(s->sim->handle(request("GET", "/_graphsim/counters")));
  EXPECT_EQ(c["graph_requests"]["total"], 0);
  EXPECT_TRUE(c["token_requests"]["by_client"].empty());
  EXPECT_EQ(s->sim->handle(request("GET", "/_graphsim/nope")).status, 404);
}

}  // namespace
}  // namespace graphsim::testing
