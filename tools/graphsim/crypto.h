#pragma once
// The cryptography graphsim needs, on OpenSSL: base64/base64url, digests, RSA keys,
// X.509 certificates and compact JWS (RS256 / PS256) signing and verification.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace graphsim {

using extdata::Error;
using extdata::Result;

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// Accepts padded or unpadded input; nullopt on any character outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);
std::optional<std::string> base64_decode(std::string_view text);

std::string sha1(std::string_view bytes);
std::string sha256(std::string_view bytes);

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

enum class JwsAlg { RS256, PS256 };

// Verifies `signature` over `signing_input` with an RSA public key.
bool verify_rsa_signature(EVP_PKEY* public_key, JwsAlg alg, std::string_view signing_input,
                          std::string_view signature);

// The RSA key pair graphsim signs its access tokens with (generated at start-up).
class SigningKey {
 public:
  static Result<std::shared_ptr<SigningKey>> generate(int bits = 2048);
  std::string sign_rs256(std::string_view signing_input) const;
  bool verify_rs256(std::string_view signing_input, std::string_view signature) const;
  // A stable key identifier (base64url SHA-1 of the public key DER), used as `kid` and `x5t`.
  const std::string& key_id() const { return key_id_; }

 private:
  PkeyPtr key_;
  std::string key_id_;
};

// A registered app certificate: thumbprints and public key.
struct Certificate {
  std::string pem;
  std::string der;
  std::string x5t;         // base64url(SHA-1(DER))
  std::string x5t_s256;    // base64url(SHA-256(DER))
  std::string thumbprint;  // upper-case hex SHA-1, as the portal shows it
  std::shared_ptr<EVP_PKEY> public_key;
};
Result<Certificate> parse_certificate_pem(std::string_view pem);

std::string hex_upper(std::string_view bytes);

// A compact JWS split into its parts; header and payload decoded from base64url.
struct CompactJwt {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // "header.payload" as received
  std::string signature;      // raw bytes
};
std::optional<CompactJwt> split_jwt(std::string_view token);

}  // namespace graphsim
