#pragma once
// Test doubles for the auth tests: a scripted HttpClient that records what was sent, a
// form-body parser, and freshly generated RSA keys / self-signed certificates.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_client.h"
#include "server/http_server.h"

namespace extdata::auth::testing {

class FakeHttpClient : public http::HttpClient {
 public:
  using Handler = std::function<Result<http::Response>(const http::Request&)>;
  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}

  Result<http::Response> send(const http::Request& request) override {
    {
      std::lock_guard lock(mu_);
      sent_.push_back(request);
    }
    calls_.fetch_add(1);
    return handler_(request);
  }
  int calls() const { return calls_.load(); }
  std::vector<http::Request> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  http::Request last() const {
    std::lock_guard lock(mu_);
    return sent_.back();
  }

 private:
  Handler handler_;
  std::atomic<int> calls_{0};
  mutable std::mutex mu_;
  std::vector<http::Request> sent_;
};

inline http::Response json_response(long status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  r.body = std::move(body);
  return r;
}

// Decoded application/x-www-form-urlencoded fields.
inline std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : server::parse_query(body)) out[k] = v;
  return out;
}

struct TestKeyPair {
  std::string private_key_pem;
  std::string certificate_pem;
  std::string public_key_pem;
};

// A fresh RSA key and a self-signed certificate valid from now-1h for `valid_days`.
inline TestKeyPair make_key_pair(long valid_seconds = 365L * 86400, const char* cn = "extdata-test",
                                 int bits = 2048) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(bits), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_seconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_sign(cert.get(), key.get(), EVP_sha256());

  auto to_string = [](const std::function<void(BIO*)>& write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  };
  TestKeyPair out;
  out.private_key_pem = to_string([&](BIO* b) {
    PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  out.certificate_pem = to_string([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); });
  out.public_key_pem = to_string([&](BIO* b) { PEM_write_bio_PUBKEY(b, key.get()); });
  return out;
}

}  // namespace extdata::auth::testing
