#pragma once
// A certificate credential: the X.509 certificate registered on the application and
// its RSA private key, loaded once, checked to belong together.
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace extdata::auth {

class ClientCertificate {
 public:
  // `certificate` / `private_key`: PEM text or the path of a PEM file. An empty
  // `private_key` means the key sits in the certificate's PEM. Errors carry
  // details["key"]: "client_certificate.certificate", "client_certificate.private_key"
  // or "client_certificate" (mismatch).
  static Result<std::shared_ptr<const ClientCertificate>> load(std::string_view certificate,
                                                               std::string_view private_key);

  // base64url(SHA-1(DER)) and base64url(SHA-256(DER)): the JOSE x5t / x5t#S256 headers.
  const std::string& x5t() const { return x5t_; }
  const std::string& x5t_s256() const { return x5t_s256_; }
  // Hex SHA-256 of the DER: identifies the credential in the token cache key.
  const std::string& fingerprint() const { return fingerprint_hex_; }
  Clock::time_point not_before() const { return not_before_; }
  Clock::time_point not_after() const { return not_after_; }
  const std::string& subject() const { return subject_; }
  EVP_PKEY* private_key() const { return key_.get(); }

 private:
  ClientCertificate() = default;
  std::shared_ptr<EVP_PKEY> key_;
  std::string x5t_, x5t_s256_, fingerprint_hex_, subject_;
  Clock::time_point not_before_{}, not_after_{};
};

// Hex-encoded SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace extdata::auth
