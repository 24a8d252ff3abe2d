// OAuth 2.0 on behalf of a user: the authorization request (PKCE S256, state, nonce), the code
// exchange, the device flow's polling, and the credential's refresh through the grant store
// (rotation written before use, invalid_grant → reconnect needed, one redemption at a time).
#include <gtest/gtest.h>

#include <thread>

#include "auth/oauth2/base64url.h"
#include "auth/oauth2_user.h"
#include "auth_test_support.h"
#include "core/time.h"
#include "core/url.h"

namespace extdata::auth {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;
using testing::json_response;
using testing::parse_form;
using namespace std::chrono_literals;

constexpr const char* kIssuer = "https://id.example.test";

UserGrantConfig code_config() {
  UserGrantConfig c;
  c.type = UserGrantType::authorization_code;
  c.authorize_url = std::string(kIssuer) + "/authorize";
  c.token_url = std::string(kIssuer) + "/token";
  c.revocation_url = std::string(kIssuer) + "/revoke";
  c.client_id = "app-1";
  c.client_secret = "s3cret";
  c.scopes = {"openid", "offline_access", "api.read"};
  c.extra_params = {{"prompt", "consent"}};
  return c;
}

std::map<std::string, std::string> query_of(const std::string& url) {
  auto parsed = Url::parse(url);
  return parse_form(parsed.ok() && parsed->query() ? *parsed->query() : "");
}

std::string unsigned_jwt(const json& claims) {
  return base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(claims.dump()) + ".x";
}

// An in-memory grant store with the store's compare-and-swap, and hooks for tests.
class MemoryGrants : public GrantStore {
 public:
  Result<std::optional<StoredGrant>> load(const std::string&) override {
    std::lock_guard lock(mu_);
    ++loads;
    if (on_load) on_load(*this);
    return grant_;
  }
  Result<bool> save(const std::string&, StoredGrant& grant, std::int64_t expected) override {
    std::lock_guard lock(mu_);
    if (fail_saves_after >= 0 && saves >= fail_saves_after)
      return Error("store.sqlite", "disk I/O error");
    ++saves;
    const std::int64_t current = grant_ ? grant_->generation : 0;
    if (current != expected) return false;
    grant.generation = expected + 1;
    grant_ = grant;
    history.push_back(grant);
    return true;
  }
  void put(StoredGrant g) {
    g.generation = (grant_ ? grant_->generation : 0) + 1;
    grant_ = g;
  }
  std::optional<StoredGrant> grant_;
  std::vector<StoredGrant> history;
  std::function<void(MemoryGrants&)> on_load;
  int loads = 0, saves = 0, fail_saves_after = -1;

 private:
  std::recursive_mutex mu_;
};

struct Rig {
  ManualClock clock;
  Metrics metrics;
  std::shared_ptr<MemoryGrants> grants = std::make_shared<MemoryGrants>();
  std::unique_ptr<FakeHttpClient> http;

  explicit Rig(FakeHttpClient::Handler handler)
      : http(std::make_unique<FakeHttpClient>(std::move(handler))) {}

  std::shared_ptr<UserOAuth2Credential> credential(UserGrantConfig config = code_config()) {
    CredentialDeps deps{*http, clock, metrics, nullptr, false, "crm"};
    deps.grants = grants;
    return std::make_shared<UserOAuth2Credential>(std::move(config), deps);
  }
  void connected(const std::string& refresh_token) {
    StoredGrant g;
    g.refresh_token = refresh_token;
    g.connected_by = "Ada <ada@example.test>";
    g.connected_at = 1'700'000'000;
    grants->put(g);
  }
  double reconnect_gauge() { return metrics.gauge(kReconnectGauge, {{"source", "crm"}}).value(); }
};

TEST(AuthorizationRequest, CarriesPkceS256StateNonceRedirectAndExtraParams) {
  auto start = begin_authorization(code_config(), "https://extdata.example/oauth2/callback");
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_EQ(start->url.rfind(std::string(kIssuer) + "/authorize?", 0), 0u) << start->url;
  auto q = query_of(start->url);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], "app-1");
  EXPECT_EQ(q["redirect_uri"], "https://extdata.example/oauth2/callback");
  EXPECT_EQ(q["scope"], "openid offline_access api.read");
  EXPECT_EQ(q["state"], start->state);
  EXPECT_EQ(q["nonce"], start->nonce);
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["code_challenge"], code_challenge_s256(start->code_verifier));
  EXPECT_EQ(q["prompt"], "consent");
  EXPECT_EQ(q.count("code_verifier"), 0u)
      << "the verifier never leaves extdata before the exchange";
  EXPECT_GE(start->code_verifier.size(), 43u);
  EXPECT_GE(start->state.size(), 43u);
  auto again = begin_authorization(code_config(), "https://extdata.example/oauth2/callback");
  EXPECT_NE(again->state, start->state);
  EXPECT_NE(again->code_verifier, start->code_verifier);
}

TEST(AuthorizationRequest, CodeChallengeIsTheRfc7636Example) {
  // RFC 7636 Appendix B.
  EXPECT_EQ(code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(CodeExchange, SendsCodeVerifierAndRedirectUriAndKeepsRefreshAndIdToken) {
  const std::string id_token = unsigned_jwt(
      {{"sub", "u1"}, {"name", "Ada"}, {"email", "ada@example.test"}, {"nonce", "n1"}});
  Rig rig([&](const http::Request&) {
    return json_response(200, json{{"access_token", "at-1"},
                                   {"token_type", "Bearer"},
                                   {"expires_in", 600},
                                   {"refresh_token", "rt-1"},
                                   {"scope", "openid offline_access api.read"},
                                   {"id_token", id_token}}
                                  .dump());
  });
  ManualClock clock;
  auto tokens = redeem_code(code_config(), "code-1", "verifier-1",
                            "https://extdata.example/oauth2/callback", *rig.http, clock);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  const auto sent = rig.http->last();
  EXPECT_EQ(sent.url, std::string(kIssuer) + "/token");
  EXPECT_FALSE(sent.retryable) << "a code is single-use: never retried blindly";
  auto form = parse_form(sent.body);
  EXPECT_EQ(form["grant_type"], "authorization_code");
  EXPECT_EQ(form["code"], "code-1");
  EXPECT_EQ(form["code_verifier"], "verifier-1");
  EXPECT_EQ(form["redirect_uri"], "https://extdata.example/oauth2/callback");
  EXPECT_EQ(form["client_id"], "app-1");
  EXPECT_EQ(form["client_secret"], "s3cret");
  EXPECT_EQ(tokens->refresh_token, "rt-1");
  EXPECT_TRUE(check_nonce(*tokens, "n1").ok());
  EXPECT_EQ(check_nonce(*tokens, "other").error().code, "auth.nonce_mismatch");
  EXPECT_EQ(signed_in_user(*tokens), "Ada <ada@example.test>");
}

TEST(CodeExchange, NoRefreshTokenSaysOfflineAccessWasNotGrantedAndHowToAskForIt) {
  Rig rig([](const http::Request&) {
    return json_response(200, R"({"access_token":"at","token_type":"Bearer","expires_in":60})");
  });
  ManualClock clock;
  auto tokens = redeem_code(code_config(), "c", "v", "https://x/oauth2/callback", *rig.http, clock);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().code, "auth.no_refresh_token");
  EXPECT_NE(tokens.error().message.find("offline access was not granted"), std::string::npos);
  EXPECT_NE(tokens.error().hint.find("offline_access"), std::string::npos);
}

TEST(CodeExchange, AnHtmlAnswerIsAClearError) {
  Rig rig([](const http::Request&) {
    http::Response r;
    r.status = 200;
    r.headers = {{"Content-Type", "text/html"}};
    r.body = "<html><body>Sign in</body></html>";
    return r;
  });
  ManualClock clock;
  auto tokens = redeem_code(code_config(), "c", "v", "https://x/oauth2/callback", *rig.http, clock);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().code, "auth.token_response_invalid");
  EXPECT_EQ(tokens.error().details.at("content_type"), "text/html");
}

TEST(UserGrantSettings, EntraUrlsDeriveFromTenantAndOfflineAccessIsAddedAndSaidSo) {
  auto c = parse_user_grant_settings(json{{"type", "oauth2"},
                                          {"grant", "authorization_code"},
                                          {"tenant", "contoso.onmicrosoft.com"},
                                          {"client_id", "app"},
                                          {"scope", "https://graph.microsoft.com/Sites.Read.All"}},
                                     UserGrantType::authorization_code);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->authorize_url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
  EXPECT_EQ(c->token_url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(c->device_authorization_url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
  EXPECT_TRUE(c->revocation_url.empty()) << "Entra ID has no RFC 7009 endpoint";
  EXPECT_EQ(c->scopes.back(), "offline_access");
  ASSERT_EQ(c->notes.size(), 1u);
  EXPECT_NE(c->notes[0].find("offline_access was added"), std::string::npos);
  // A user's sign-in may go through /organizations (client credentials may not).
  auto orgs = parse_user_grant_settings(
      json{{"grant", "device_code"}, {"tenant", "organizations"}, {"client_id", "app"}},
      UserGrantType::device_code);
  EXPECT_TRUE(orgs.ok()) << orgs.error().message;
}

TEST(UserGrantSettings, RefusesReservedAuthorizeParamsAndMissingEndpoints) {
  auto reserved = parse_user_grant_settings(json{{"authorize_url", "https://id.example/a"},
                                                 {"token_url", "https://id.example/t"},
                                                 {"client_id", "app"},
                                                 {"extra_params", {{"state", "x"}}}},
                                            UserGrantType::authorization_code);
  ASSERT_FALSE(reserved.ok());
  EXPECT_EQ(reserved.error().code, "auth.reserved_parameter");
  EXPECT_EQ(reserved.error().details.at("key"), "extra_params.state");
  auto missing =
      parse_user_grant_settings(json{{"token_url", "https://id.example/t"}, {"client_id", "app"}},
                                UserGrantType::authorization_code);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().details.at("key"), "authorize_url");
  auto insecure = parse_user_grant_settings(json{{"authorize_url", "http://id.example/a"},
                                                 {"token_url", "https://id.example/t"},
                                                 {"client_id", "app"}},
                                            UserGrantType::authorization_code);
  ASSERT_FALSE(insecure.ok());
  EXPECT_EQ(insecure.error().code, "auth.insecure_token_url");
}

TEST(DeviceFlow, WaitsOnPendingAndSlowsDownByFiveSecondsForGoodWithoutSleeping) {
  std::vector<std::string> answers = {"authorization_pending", "slow_down", "authorization_pending",
                                      "ok"};
  size_t next = 0;
  Rig rig([&](const http::Request& r) {
    if (r.url.ends_with("/device"))
      return json_response(200, R"({"device_code":"dc-1","user_code":"WDJB-MJHT",
        "verification_uri":"https://id.example.test/device","expires_in":600,"interval":5})");
    const std::string a = answers.at(next++);
    if (a == "ok")
      return json_response(200, R"({"access_token":"at","token_type":"Bearer","expires_in":60,
                                    "refresh_token":"rt"})");
    return json_response(400, json{{"error", a}}.dump());
  });
  auto config = code_config();
  config.type = UserGrantType::device_code;
  config.device_authorization_url = std::string(kIssuer) + "/device";
  auto device = start_device_authorization(config, *rig.http, rig.clock);
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ(device->user_code, "WDJB-MJHT");
  EXPECT_EQ(parse_form(rig.http->last().body)["scope"], "openid offline_access api.read");
  std::vector<std::string> seen;
  auto tokens = poll_device_authorization(config, *device, *rig.http, rig.clock,
                                          [&](std::string_view e) { seen.emplace_back(e); });
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->refresh_token, "rt");
  EXPECT_EQ(seen, (std::vector<std::string>{"authorization_pending", "slow_down",
                                            "authorization_pending"}));
  // 5 s, 5 s, then 10 s twice: slow_down added 5 seconds to every later wait.
  EXPECT_EQ(rig.clock.total_slept(), 30s);
  EXPECT_EQ(rig.clock.sleeps(), 4);
  const auto form = parse_form(rig.http->last().body);
  EXPECT_EQ(form.at("grant_type"), "urn:ietf:params:oauth:grant-type:device_code");
  EXPECT_EQ(form.at("device_code"), "dc-1");
}

TEST(DeviceFlow, DeniedAndExpiredEndWithTheirOwnCodes) {
  Rig denied(
      [](const http::Request&) { return json_response(400, R"({"error":"access_denied"})"); });
  auto config = code_config();
  DeviceAuthorization d{"dc", "UC", "https://x/device", "", 5s, denied.clock.now() + 600s};
  EXPECT_EQ(poll_device_authorization(config, d, *denied.http, denied.clock).error().code,
            "auth.access_denied");
  Rig pending([](const http::Request&) {
    return json_response(400, R"({"error":"authorization_pending"})");
  });
  DeviceAuthorization soon{"dc", "UC", "https://x/device", "", 5s, pending.clock.now() + 12s};
  EXPECT_EQ(poll_device_authorization(config, soon, *pending.http, pending.clock).error().code,
            "auth.device_code_expired");
  EXPECT_EQ(pending.http->calls(), 2) << "no request after the code expired";
}

TEST(UserCredential, NeverConnectedSaysHowToConnect) {
  Rig rig([](const http::Request&) { return json_response(500, "{}"); });
  http::Request request;
  auto status = rig.credential()->apply(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "auth.not_connected");
  EXPECT_NE(status.error().message.find("run `extdata auth connect crm` or use Connect in the UI"),
            std::string::npos);
  EXPECT_EQ(rig.http->calls(), 0);
}

TEST(UserCredential, RotatedRefreshTokensAreStoredBeforeUseAcrossTenRefreshes) {
  int issued = 1;
  std::vector<std::string> redeemed;
  Rig rig([&](const http::Request& r) {
    redeemed.push_back(parse_form(r.body)["refresh_token"]);
    ++issued;
    return json_response(200, json{{"access_token", "at-" + std::to_string(issued)},
                                   {"token_type", "Bearer"},
                                   {"expires_in", 600},
                                   {"refresh_token", "rt-" + std::to_string(issued)}}
                                  .dump());
  });
  rig.connected("rt-1");
  auto cred = rig.credential();
  for (int i = 1; i <= 10; ++i) {
    http::Request request;
    ASSERT_TRUE(cred->apply(request).ok()) << i;
    EXPECT_EQ(*http::find_header(request.headers, "Authorization"),
              "Bearer at-" + std::to_string(i + 1));
    // What is sent was written first: the store holds the refresh token of this answer.
    EXPECT_EQ(rig.grants->grant_->refresh_token, "rt-" + std::to_string(i + 1));
    EXPECT_EQ(rig.grants->grant_->access_token, "at-" + std::to_string(i + 1));
    rig.clock.advance(600s);  // expired: the next apply refreshes
  }
  ASSERT_EQ(redeemed.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(redeemed[i], "rt-" + std::to_string(i + 1));
  EXPECT_EQ(rig.grants->grant_->refreshes, 10);
  EXPECT_FALSE(rig.grants->grant_->reconnect_needed);
  EXPECT_EQ(rig.grants->grant_->lease_until, 0) << "the lease is released";
}

TEST(UserCredential, ATokenThatCannotBeStoredIsNotUsed) {
  Rig rig([](const http::Request&) {
    return json_response(200, R"({"access_token":"at-2","token_type":"Bearer","expires_in":600,
                                  "refresh_token":"rt-2"})");
  });
  rig.connected("rt-1");
  rig.grants->fail_saves_after = 1;  // the lease is taken, the result cannot be written
  http::Request request;
  auto status = rig.credential()->apply(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "auth.grant_not_saved");
  EXPECT_FALSE(http::find_header(request.headers, "Authorization"));
}

TEST(UserCredential, InvalidGrantMarksReconnectNeededAndSetsTheGauge) {
  Rig rig([](const http::Request&) {
    return json_response(
        400, R"({"error":"invalid_grant","error_description":"grant request is invalid"})");
  });
  rig.connected("rt-replayed");
  auto cred = rig.credential();
  http::Request request;
  auto status = cred->apply(request);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "auth.reconnect_needed");
  EXPECT_NE(status.error().hint.find("extdata auth connect crm"), std::string::npos);
  ASSERT_TRUE(rig.grants->grant_);
  EXPECT_TRUE(rig.grants->grant_->reconnect_needed);
  EXPECT_EQ(rig.grants->grant_->reconnect_reason, "grant request is invalid");
  EXPECT_EQ(rig.reconnect_gauge(), 1);
  EXPECT_EQ(rig.grants->grant_->public_json()["state"], "reconnect_needed");
  // Later fetches say so without asking the provider again.
  rig.clock.advance(60s);
  EXPECT_EQ(cred->apply(request).error().code, "auth.reconnect_needed");
  EXPECT_EQ(rig.http->calls(), 1);
}

TEST(UserCredential, AnotherProcessHoldingTheLeaseIsWaitedForNotRaced) {
  Rig rig([](const http::Request&) { return json_response(500, "{}"); });
  rig.connected("rt-1");
  StoredGrant held = *rig.grants->grant_;
  held.lease_owner = "other-process";
  held.lease_until = unix_seconds(rig.clock.now()) + 60;
  rig.grants->put(held);
  rig.grants->on_load = [&](MemoryGrants& g) {
    if (g.loads == 3) {  // the other process finished: rotated token and access token stored
      StoredGrant done = *g.grant_;
      done.lease_until = 0;
      done.lease_owner.clear();
      done.refresh_token = "rt-2";
      done.access_token = "at-other";
      done.refreshed_at = unix_seconds(rig.clock.now());
      done.access_expires_at = done.refreshed_at + 600;
      g.put(done);
    }
  };
  http::Request request;
  ASSERT_TRUE(rig.credential()->apply(request).ok());
  EXPECT_EQ(*http::find_header(request.headers, "Authorization"), "Bearer at-other");
  EXPECT_EQ(rig.http->calls(), 0) << "the refresh token was redeemed once, by the other process";
  EXPECT_EQ(rig.clock.sleeps(), 2);
}

TEST(UserCredential, ConcurrentCallersCauseOneRedemption) {
  std::atomic<int> calls{0};
  Rig rig([&](const http::Request&) {
    calls.fetch_add(1);
    std::this_thread::yield();
    return json_response(200, R"({"access_token":"at-2","token_type":"Bearer","expires_in":600,
                                  "refresh_token":"rt-2"})");
  });
  rig.connected("rt-1");
  auto cred = rig.credential();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      http::Request request;
      if (cred->apply(request).ok()) ok.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(calls.load(), 1);
}

TEST(UserCredential, ConnectReplacesAReconnectNeededGrantAndClearsTheGauge) {
  Rig rig([](const http::Request&) { return json_response(500, "{}"); });
  rig.connected("rt-old");
  StoredGrant revoked = *rig.grants->grant_;
  revoked.reconnect_needed = true;
  rig.grants->put(revoked);
  UserTokens tokens;
  tokens.access.access_token = "at-new";
  tokens.access.obtained_at = rig.clock.now();
  tokens.access.expires_at = rig.clock.now() + 600s;
  tokens.refresh_token = "rt-new";
  tokens.id_claims = {{"preferred_username", "grace@example.test"}};
  auto cred = rig.credential();
  auto stored = cred->connect(tokens);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_FALSE(rig.grants->grant_->reconnect_needed);
  EXPECT_EQ(rig.grants->grant_->connected_by, "grace@example.test");
  EXPECT_EQ(rig.reconnect_gauge(), 0);
  const json shown = rig.grants->grant_->public_json();
  EXPECT_EQ(shown.dump().find("rt-new"), std::string::npos) << "never shown";
  EXPECT_EQ(shown.dump().find("at-new"), std::string::npos);
  http::Request request;
  ASSERT_TRUE(cred->apply(request).ok());
  EXPECT_EQ(*http::find_header(request.headers, "Authorization"), "Bearer at-new");
  EXPECT_EQ(rig.http->calls(), 0);
}

TEST(Revocation, PostsTheRefreshTokenWithItsHint) {
  Rig rig([](const http::Request&) { return json_response(200, ""); });
  ASSERT_TRUE(revoke_token(code_config(), "rt-9", *rig.http).ok());
  const auto sent = rig.http->last();
  EXPECT_EQ(sent.url, std::string(kIssuer) + "/revoke");
  auto form = parse_form(sent.body);
  EXPECT_EQ(form["token"], "rt-9");
  EXPECT_EQ(form["token_type_hint"], "refresh_token");
  EXPECT_EQ(form["client_id"], "app-1");
}

}  // namespace
}  // namespace extdata::auth

namespace extdata::auth {
namespace {

TEST(UserCredential, AfterA401TheRefreshTokenIsRedeemedNotTheStoredAccessTokenReused) {
  Rig rig([](const http::Request&) {
    return json_response(400, R"({"error":"invalid_grant","error_description":"grant revoked"})");
  });
  rig.connected("rt-1");
  StoredGrant g = *rig.grants->grant_;
  g.access_token = "at-stored";
  g.refreshed_at = unix_seconds(rig.clock.now());
  g.access_expires_at = g.refreshed_at + 600;
  rig.grants->put(g);
  auto cred = rig.credential();
  http::Request first;
  ASSERT_TRUE(cred->apply(first).ok());
  EXPECT_EQ(*http::find_header(first.headers, "Authorization"), "Bearer at-stored");
  http::Response refused;
  refused.status = 401;
  ASSERT_TRUE(cred->on_unauthorized(first, refused));
  http::Request retry;
  auto status = cred->apply(retry);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "auth.reconnect_needed");
  EXPECT_EQ(rig.http->calls(), 1);
}

}  // namespace
}  // namespace extdata::auth
