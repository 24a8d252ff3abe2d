// graphsim behind the real HTTP server: https with a local CA, absolute links in
// the same scheme, and a connection dropped mid-body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "helpers.h"
#include "http/curl_client.h"
#include "server/http_server.h"

namespace graphsim::testing {
namespace {

struct Running {
  std::unique_ptr<Sim> sim = make_sim();
  std::unique_ptr<extdata::server::HttpServer> server;

  explicit Running(extdata::server::ServerOptions options) {
    // Socket tests use real time for token validity.
    auto fixture = load_test_fixture();
    GraphSimOptions o;
    sim->sim = GraphSim::create(std::move(fixture), o).value();
    GraphSim* g = sim->sim.get();
    server = std::make_unique<extdata::server::HttpServer>(
        options, extdata::server::sync_handler(
                     [g](const extdata::server::Request& r) { return g->handle(r); }));
    EXPECT_TRUE(server->start().ok());
  }
  ~Running() { server->stop(); }
};

std::string cert_dir() {
  std::string dir = std::string(EXTDATA_BINARY_DIR) + "/graphsim-test-certs";
  std::string cmd = std::string(EXTDATA_SOURCE_DIR) + "/scripts/gen-test-certs " + dir;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir;
}

TEST(GraphsimSocket, HttpsWithLocalCaAndHttpsNextLinks) {
  std::string dir = cert_dir();
  extdata::server::ServerOptions options;
  options.tls_cert_file = dir + "/server.pem";
  options.tls_key_file = dir + "/server.key";
  Running running(options);
  std::string url = running.server->url();
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;

  extdata::http::CurlOptions curl_options;
  curl_options.ca_bundle = dir + "/ca.pem";
  curl_options.retry.max_attempts = 1;
  extdata::http::CurlHttpClient client(curl_options);
  extdata::http::Request token_req;
  token_req.method = "POST";
  token_req.url = url + "/contoso.onmicrosoft.com/oauth2/v2.0/token";
  token_req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  token_req.body = form({{"grant_type", "client_credentials"},
                         {"client_id", kAppId},
                         {"client_secret", kSecret},
                         {"scope", "https://graph.microsoft.com/.default"}});
  auto token_resp = client.send(token_req);
  ASSERT_TRUE(token_resp.ok()) << token_resp.error().to_string();
  ASSERT_EQ(token_resp->status, 200) << token_resp->body;
  std::string token = nlohmann::json::parse(token_resp->body)["access_token"];

  extdata::http::Request items;
  items.url = url + "/v1.0/sites/contoso.sharepoint.com:/sites/Sales:/lists/Customers/items?$top=7";
  items.headers = {{"Authorization", "Bearer " + token}};
  auto page = client.send(items);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->status, 200) << page->body;
  std::string next = nlohmann::json::parse(page->body)["@odata.nextLink"];
  EXPECT_EQ(next.rfind(url + "/v1.0/", 0), 0u) << next;
  items.url = next;
  auto second = client.send(items);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(nlohmann::json::parse(second->body)["value"][0]["id"], "8");

  // Without trusting the CA the handshake fails.
  extdata::http::CurlOptions untrusting;
  untrusting.retry.max_attempts = 1;
  extdata::http::CurlHttpClient strict(untrusting);
  EXPECT_FALSE(strict.send(items).ok());
}

TEST(GraphsimSocket, DroppedConnectionSendsPartOfTheBody) {
  Running running(extdata::server::ServerOptions{});
  std::string token = token_for(*running.sim->sim, kAppId, kSecret);
  Faults faults;
  faults.drop_connection.every = 1;
  faults.drop_connection.after_bytes = 40;
  running.sim->sim->set_faults(faults);

  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(running.server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req =
      "GET /v1.0/sites/contoso.sharepoint.com:/sites/Sales HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      token + "\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string received;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) received.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t header_end = received.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos) << received;
  std::string headers = received.substr(0, header_end);
  size_t cl = headers.find("Content-Length: ");
  if (cl == std::string::npos) cl = headers.find("content-length: ");
  ASSERT_NE(cl, std::string::npos) << headers;
  long content_length = std::atol(headers.c_str() + cl + 16);
  EXPECT_GT(content_length, 40);
  EXPECT_EQ(received.size() - header_end - 4, 40u);
}

}  // namespace
}  // namespace graphsim::testing
