#include "helpers.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "server/http_server.h"

namespace graphsim::testing {

namespace {

TestCertificate make_certificate(const char* common_name) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 60L * 60 * 24 * 365 * 20);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  TestCertificate out;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  out.cert_pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  len = BIO_get_mem_data(bio, &data);
  out.key_pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert, &der);
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

std::string digest(const EVP_MD* md, const std::string& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::shared_ptr<SigningKey> shared_key() {
  static std::shared_ptr<SigningKey> key = SigningKey::generate().value();
  return key;
}

}  // namespace

std::string demo_fixture_path() {
  return std::string(EXTDATA_SOURCE_DIR) + "/tools/graphsim/fixtures/demo.yaml";
}

const TestCertificate& test_certificate() {
  static TestCertificate cert = make_certificate("graphsim test app");
  return cert;
}

const TestCertificate& other_certificate() {
  static TestCertificate cert = make_certificate("unregistered");
  return cert;
}

std::string b64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  if (bytes.size() - i == 1) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string sign_jwt(const nlohmann::json& header, const nlohmann::json& payload,
                     const TestCertificate& cert, const std::string& alg) {
  std::string input = b64url(header.dump()) + "." + b64url(payload.dump());
  BIO* bio = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key);
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return input + "." + b64url(sig);
}

std::string x5t(const TestCertificate& cert) {
  return b64url(digest(EVP_sha1(), cert.der));
}
std::string x5t_s256(const TestCertificate& cert) {
  return b64url(digest(EVP_sha256(), cert.der));
}

Fixture load_test_fixture() {
  auto fixture = load_fixture_file(demo_fixture_path());
  EXPECT_TRUE(fixture.ok()) << (fixture.ok() ? "" : fixture.error().to_string());
  AppSpec app;
  app.client_id = kCertApp;
  app.display_name = "certificate app";
  app.roles = {"Sites.Read.All"};
  app.admin_consent = true;
  app.service_principal_id = derived_guid("sp-cert");
  CertificateSpec cert;
  cert.certificate = parse_certificate_pem(test_certificate().cert_pem).value();
  app.certificates.push_back(std::move(cert));
  fixture->tenants.front()->apps.push_back(std::move(app));
  return std::move(fixture).value();
}

std::unique_ptr<Sim> make_sim(Fixture fixture) {
  auto s = std::make_unique<Sim>();
  s->clock.advance(std::chrono::seconds(1'780'272'000) -
                   std::chrono::duration_cast<std::chrono::seconds>(
                       s->clock.now().time_since_epoch()));  // 2026-06-01T00:00:00Z
  GraphSimOptions options;
  options.clock = &s->clock;
  options.signing_key = shared_key();
  s->sim = GraphSim::create(std::move(fixture), options).value();
  return s;
}

std::unique_ptr<Sim> make_sim() {
  return make_sim(load_test_fixture());
}

extdata::server::Request request(const std::string& method, const std::string& target,
                                 extdata::server::Headers headers, std::string body) {
  extdata::server::Request r;
  r.method = method;
  r.target = target;
  size_t q = target.find('?');
  r.path = extdata::server::percent_decode(target.substr(0, q), false);
  if (q != std::string::npos) r.query = extdata::server::parse_query(target.substr(q + 1));
  r.headers = std::move(headers);
  r.headers.emplace_back("Host", "127.0.0.1:4444");
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  return r;
}

extdata::server::Request follow(const std::string& absolute_url, const std::string& token) {
  EXPECT_EQ(absolute_url.rfind(kBase, 0), 0u) << absolute_url;
  return graph_get(absolute_url.substr(std::string(kBase).size()), token);
}

std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += "&";
    out += k + "=";
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}

extdata::server::Request token_request(const std::string& tenant, const std::string& body,
                                       extdata::server::Headers headers) {
  headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return request("POST", "/" + tenant + "/oauth2/v2.0/token", std::move(headers), body);
}

std::string token_for(GraphSim& sim, const std::string& client_id, const std::string& secret) {
  auto response = sim.handle(token_request(
      "contoso.onmicrosoft.com", form({{"grant_type", "client_credentials"},
                                       {"client_id", client_id},
                                       {"client_secret", secret},
                                       {"scope", "https://graph.microsoft.com/.default"}})));
  EXPECT_EQ(response.status, 200) << response.body;
  return body_json(response).value("access_token", "");
}

extdata::server::Request graph_get(const std::string& target, const std::string& token,
                                   extdata::server::Headers extra) {
  extra.emplace_back("Authorization", "Bearer " + token);
  return request("GET", target, std::move(extra));
}

nlohmann::json body_json(const extdata::server::Response& response) {
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << response.body;
  return j;
}

nlohmann::json jwt_claims(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  auto payload = base64url_decode(token.substr(a + 1, b - a - 1));
  return nlohmann::json::parse(payload.value());
}

}  // namespace graphsim::testing
