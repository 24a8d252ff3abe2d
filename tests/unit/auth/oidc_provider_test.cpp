// Our OAuth2 client against a server we did not write: oidc-provider (a certified
// OAuth 2.0 / OpenID Connect implementation, tests/node/oidc-server.mjs) on 127.0.0.1,
// through the real libcurl client, for client_secret_post, client_secret_basic and
// private_key_jwt (RS256 and PS256), and its failures translated.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth/authenticated_client.h"
#include "auth/diagnostics.h"
#include "auth/oauth2/jwt.h"
#include "auth/oauth2/token_cache.h"
#include "auth_test_support.h"
#include "core/error_json.h"
#include "http/curl_client.h"

extern char** environ;

namespace extdata::auth {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The node process: we hold its stdin (it exits when that closes) and read its first line.
// Its stderr goes to a file that a start failure quotes.
class OidcServer {
 public:
  // A node that has not announced itself within the bound is stopped and started once more:
  // a rare stall of a freshly started node on a loaded machine must not fail the suite, and
  // a server that is really broken fails both attempts with its stderr in the message.
  Status start(const std::string& client_cert_path, const fs::path& stderr_path) {
    Status status = start_once(client_cert_path, stderr_path);
    if (status.ok() || status.error().code != "test.oidc_silent") return status;
    stop();
    return start_once(client_cert_path, stderr_path);
  }
  ~OidcServer() { stop(); }
  const json& info() const { return info_; }

 private:
  Status start_once(const std::string& client_cert_path, const fs::path& stderr_path) {
    const fs::path dir = fs::path(EXTDATA_SOURCE_DIR) / "tests" / "node";
    if (!fs::exists(dir / "node_modules" / "oidc-provider" / "package.json"))
      return Error("test.missing_node_modules",
                   "oidc-provider is not installed in tests/node (run scripts/install-deps)");
    int in_pipe[2], out_pipe[2];
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return Error("test.pipe", "pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addclose(&actions, in_pipe[1]);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    const std::string script = (dir / "oidc-server.mjs").string();
    // The project's Node.js (scripts/node), not whatever node is on PATH.
    const std::string node = (fs::path(EXTDATA_SOURCE_DIR) / "scripts" / "node").string();
    std::vector<std::string> args = {node, script, "--client-cert", client_cert_path};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, node.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    if (rc != 0) {
      pid_ = -1;
      close(out_pipe[0]);
      return Error("test.spawn", "cannot start node: " + std::string(strerror(rc)));
    }
    // Wait for the line announcing the URL (bounded, not a timing assertion).
    std::string line;
    bool silent = false;
    char c;
    pollfd pfd{out_pipe[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (poll(&pfd, 1, 60'000) <= 0) {
        silent = true;
        break;
      }
      if (read(out_pipe[0], &c, 1) != 1) break;
      line += c;
    }
    close(out_pipe[0]);
    info_ = json::parse(line, nullptr, false);
    if (info_.is_discarded() || !info_.contains("token_endpoint")) {
      std::ifstream err(stderr_path);
      const std::string stderr_text((std::istreambuf_iterator<char>(err)),
                                    std::istreambuf_iterator<char>());
      return Error(silent ? "test.oidc_silent" : "test.oidc_start",
                   "oidc-server.mjs did not announce itself" +
                       std::string(silent ? " within 60 s" : "") + ": stdout '" + line +
                       "', stderr '" + stderr_text + "'");
    }
    return ok_status();
  }
  void stop() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  json info_;
};

class OidcProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new testing::TestKeyPair(testing::make_key_pair());
    dir_ = new fs::path(fs::temp_directory_path() / ("extdata-oidc-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    std::ofstream(*dir_ / "client-cert.pem") << keys_->certificate_pem;
    std::ofstream(*dir_ / "client-key.pem") << keys_->private_key_pem;
    server_ = new OidcServer();
    start_status_ = new Status(
        server_->start((*dir_ / "client-cert.pem").string(), *dir_ / "oidc-server.stderr"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete start_status_;
    fs::remove_all(*dir_);
    delete dir_;
    delete keys_;
  }
  void SetUp() override {
    // A missing node_modules is a failure, never a silent pass.
    ASSERT_TRUE(start_status_->ok()) << start_status_->error().message;
  }

  std::string token_url() const { return server_->info()["token_endpoint"]; }
  std::string resource() const { return server_->info()["resource"]; }
  std::string secret_of(const std::string& client) const {
    return server_->info()["clients"][client]["client_secret"];
  }

  Result<std::shared_ptr<Credential>> make(const json& auth, const std::string& source = "oidc") {
    CredentialDeps deps{curl_, SystemClock::instance(), metrics_, cache_, false, source};
    return make_credential(auth, deps);
  }

  static void expect_valid_token(const AuthReport& report, const std::string& client_id,
                                 const std::string& resource) {
    EXPECT_EQ(report.token_type, "Bearer");
    ASSERT_TRUE(report.expires_in.has_value());
    EXPECT_GT(*report.expires_in, 500);
    EXPECT_LE(*report.expires_in, 600);
    EXPECT_EQ(report.claims["aud"], resource);
    EXPECT_EQ(report.claims["roles"], json::array({"Reports.Read"}));
    auto decoded = jwt::decode(report.token);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->payload["client_id"], client_id);
    EXPECT_EQ(decoded->header["alg"], "RS256");
  }

  static inline testing::TestKeyPair* keys_ = nullptr;
  static inline fs::path* dir_ = nullptr;
  static inline OidcServer* server_ = nullptr;
  static inline Status* start_status_ = nullptr;
  Metrics metrics_;
  http::CurlHttpClient curl_{http::CurlOptions{}, &SystemClock::instance(), &metrics_};
  std::shared_ptr<TokenCache> cache_ = std::make_shared<TokenCache>(SystemClock::instance());
};

TEST_F(OidcProviderTest, ClientSecretPost) {
  auto cred = make({{"type", "oauth2"},
                    {"token_url", token_url()},
                    {"client_id", "post-client"},
                    {"client_secret", secret_of("post-client")},
                    {"scope", "api.read"},
                    {"client_auth", "post"}});
  ASSERT_TRUE(cred.ok()) << cred.error().message;
  auto report = authenticate(**cred, SystemClock::instance());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  expect_valid_token(*report, "post-client", resource());
  auto decoded = jwt::decode(report->token);
  EXPECT_EQ(decoded->payload["scope"], "api.read");
}

TEST_F(OidcProviderTest, ClientSecretBasicWithAnExtraResourceParameter) {
  auto cred = make({{"type", "oauth2"},
                    {"token_url", token_url()},
                    {"client_id", "basic-client"},
                    {"client_secret", secret_of("basic-client")},
                    {"scope", json::array({"api.read", "api.write"})},
                    {"client_auth", "basic"},
                    {"extra_params", {{"resource", resource()}}}});
  ASSERT_TRUE(cred.ok()) << cred.error().message;
  auto report = authenticate(**cred, SystemClock::instance());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  expect_valid_token(*report, "basic-client", resource());
  EXPECT_EQ(jwt::decode(report->token)->payload["scope"], "api.read api.write");
}

TEST_F(OidcProviderTest, PrivateKeyJwtRs256AndPs256) {
  for (const char* alg : {"RS256", "PS256"}) {
    auto cred = make({{"type", "oauth2"},
                      {"token_url", token_url()},
                      {"client_id", "jwt-client"},
                      {"client_certificate",
                       {{"certificate", (*dir_ / "client-cert.pem").string()},
                        {"private_key", (*dir_ / "client-key.pem").string()},
                        {"algorithm", alg}}},
                      {"scope", "api.read"}});
    ASSERT_TRUE(cred.ok()) << cred.error().message;
    auto report = authenticate(**cred, SystemClock::instance());
    ASSERT_TRUE(report.ok()) << alg << ": " << report.error().to_string();
    expect_valid_token(*report, "jwt-client", resource());
    // The certificate's expiry is known and reported.
    EXPECT_TRUE(seconds_until_expiry(**cred, std::chrono::system_clock::now()).has_value());
  }
}

TEST_F(OidcProviderTest, TokensAreCachedAndSentToTheResource) {
  auto cred = make({{"type", "oauth2"},
                    {"token_url", token_url()},
                    {"client_id", "post-client"},
                    {"client_secret", secret_of("post-client")},
                    {"scope", "api.read"}},
                   "cached");
  ASSERT_TRUE(cred.ok());
  http::Request a, b;
  ASSERT_TRUE((*cred)->apply(a).ok());
  ASSERT_TRUE((*cred)->apply(b).ok());
  EXPECT_EQ(http::find_header(a.headers, "Authorization"),
            http::find_header(b.headers, "Authorization"));
  EXPECT_EQ(metrics_.counter_value("extdata_token_requests_total",
                                   {{"source", "cached"}, {"result", "ok"}}),
            1);
}

TEST_F(OidcProviderTest, WrongSecretIsATranslatedInvalidClient) {
  auto cred = make({{"type", "oauth2"},
                    {"token_url", token_url()},
                    {"client_id", "post-client"},
                    {"client_secret", "not-the-right-secret"},
                    {"scope", "api.read"}});
  ASSERT_TRUE(cred.ok());
  auto report = authenticate(**cred, SystemClock::instance());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "auth.invalid_client");
  EXPECT_EQ(report.error().details.at("error"), "invalid_client");
  EXPECT_EQ(report.error().details.at("http_status"), "401");
  EXPECT_FALSE(report.error().hint.empty());
  EXPECT_EQ(error_document(report.error()).dump().find("not-the-right-secret"), std::string::npos);
}

TEST_F(OidcProviderTest, WrongBasicSecretKeyScopeAndResourceAreRefused) {
  // A wrong secret sent as HTTP Basic.
  auto wrong_basic = make({{"type", "oauth2"},
                           {"token_url", token_url()},
                           {"client_id", "basic-client"},
                           {"client_secret", "wrong:secret with spaces"},
                           {"client_auth", "basic"}});
  ASSERT_TRUE(wrong_basic.ok());
  auto r1 = (*wrong_basic)->authenticate();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, "auth.invalid_client");

  // An assertion signed by a key that is not registered.
  const auto stranger = testing::make_key_pair();
  auto wrong_key = make(
      {{"type", "oauth2"},
       {"token_url", token_url()},
       {"client_id", "jwt-client"},
       {"client_certificate",
        {{"certificate", stranger.certificate_pem}, {"private_key", stranger.private_key_pem}}}});
  ASSERT_TRUE(wrong_key.ok());
  auto r2 = (*wrong_key)->authenticate();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "auth.invalid_client");

  auto bad_scope = make({{"type", "oauth2"},
                         {"token_url", token_url()},
                         {"client_id", "post-client"},
                         {"client_secret", secret_of("post-client")},
                         {"scope", "openid"}});  // not allowed for this client
  ASSERT_TRUE(bad_scope.ok());
  auto r3 = (*bad_scope)->authenticate();
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, "auth.invalid_scope");

  auto bad_resource = make({{"type", "oauth2"},
                            {"token_url", token_url()},
                            {"client_id", "post-client"},
                            {"client_secret", secret_of("post-client")},
                            {"extra_params", {{"resource", "https://elsewhere.example"}}}});
  ASSERT_TRUE(bad_resource.ok());
  auto r4 = (*bad_resource)->authenticate();
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, "auth.invalid_target");
}

TEST_F(OidcProviderTest, NotATokenEndpointGivesAClearError) {
  // The issuer's root is an HTML/JSON 404, not a token endpoint.
  auto cred =
      make({{"type", "oauth2"},
            {"token_url", server_->info()["issuer"].get<std::string>() + "/no-such-endpoint"},
            {"client_id", "post-client"},
            {"client_secret", secret_of("post-client")}});
  ASSERT_TRUE(cred.ok());
  auto r = (*cred)->authenticate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details.at("http_status"), "404");
}

}  // namespace
}  // namespace extdata::auth
