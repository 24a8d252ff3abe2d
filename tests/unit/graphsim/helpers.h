#pragma once
// Test helpers for graphsim: a small fixture, requests without sockets, an RSA
// key + self-signed certificate made in-process, and an independent JWT signer
// (so a bug in graphsim's own JWT code cannot hide itself).
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "core/clock.h"
#include "graphsim.h"

namespace graphsim::testing {

inline constexpr const char* kTenantId = "3b7e9c2a-5d41-4f8e-a6b0-1c2d3e4f5a6b";
inline constexpr const char* kAppId = "11111111-1111-4111-8111-111111111111";
inline constexpr const char* kSecret = "Abc8Q~graphsimDemoSecret.Value-0001xYz2";
inline constexpr const char* kSecretId = "9d2c7a51-3e8f-4b6a-9c1d-0e5f4a3b2c10";
inline constexpr const char* kExpiredApp = "22222222-2222-4222-8222-222222222222";
inline constexpr const char* kExpiredSecret = "Exp7Q~graphsimExpiredSecret.Value-02aB";
inline constexpr const char* kNoConsentApp = "33333333-3333-4333-8333-333333333333";
inline constexpr const char* kNoConsentSecret = "Nc5Q~graphsimNoConsentSecret.Value-03cD";
inline constexpr const char* kUserReadApp = "44444444-4444-4444-8444-444444444444";
inline constexpr const char* kUserReadSecret = "Usr4Q~graphsimUserReadAllSecret.Val-04eF";
inline constexpr const char* kCertApp = "55555555-5555-4555-8555-555555555555";
inline constexpr const char* kBase = "http://127.0.0.1:4444";
inline constexpr const char* kSalesSiteId =
    "contoso.sharepoint.com,6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c03,7b8c9d0e-1f2a-4b3c-9d4e-"
    "5f6a7b8c9d04";

std::string demo_fixture_path();

// A key + self-signed certificate generated once per process.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string der;
};
const TestCertificate& test_certificate();
const TestCertificate& other_certificate();  // not registered anywhere

std::string b64url(std::string_view bytes);  // independent of graphsim's encoder
// Signs header.payload with the certificate's key: alg "RS256" or "PS256".
std::string sign_jwt(const nlohmann::json& header, const nlohmann::json& payload,
                     const TestCertificate& cert, const std::string& alg);
std::string x5t(const TestCertificate& cert);
std::string x5t_s256(const TestCertificate& cert);

// The demo fixture plus an app with a registered certificate (kCertApp).
Fixture load_test_fixture();

struct Sim {
  extdata::ManualClock clock;
  std::unique_ptr<GraphSim> sim;
};
// A simulator on the test fixture with a manual clock at 2026-06-01 and a shared key.
std::unique_ptr<Sim> make_sim(Fixture fixture);
std::unique_ptr<Sim> make_sim();

// Builds a request as the HTTP layer would (decoded path and query, Host header).
extdata::server::Request request(const std::string& method, const std::string& target,
                                 extdata::server::Headers headers = {}, std::string body = {});
// An absolute link (nextLink) turned back into a request.
extdata::server::Request follow(const std::string& absolute_url, const std::string& token);

extdata::server::Request token_request(const std::string& tenant, const std::string& form,
                                       extdata::server::Headers headers = {});
std::string form(std::initializer_list<std::pair<std::string, std::string>> fields);
// A token from the endpoint (asserts success).
std::string token_for(GraphSim& sim, const std::string& client_id, const std::string& secret);

extdata::server::Request graph_get(const std::string& target, const std::string& token,
                                   extdata::server::Headers extra = {});
nlohmann::json body_json(const extdata::server::Response& response);
nlohmann::json jwt_claims(const std::string& token);

}  // namespace graphsim::testing
