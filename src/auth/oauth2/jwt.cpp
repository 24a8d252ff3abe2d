#include "auth/oauth2/jwt.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <memory>

#include "auth/oauth2/base64url.h"

namespace extdata::auth::jwt {

namespace {

Result<nlohmann::json> decode_part(std::string_view part, std::string_view which) {
  auto bytes = base64url_decode(part);
  if (!bytes)
    return Error("jwt.malformed", "the token's " + std::string(which) + " is not base64url");
  auto parsed = nlohmann::json::parse(*bytes, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return Error("jwt.malformed", "the token's " + std::string(which) + " is not a JSON object");
  return parsed;
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

std::string_view name(Algorithm alg) {
  return alg == Algorithm::ps256 ? "PS256" : "RS256";
}

bool looks_like_jwt(std::string_view token) {
  return decode(token).ok();
}

Result<Decoded> decode(std::string_view token) {
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return Error("jwt.malformed", "the token is not a JWT (expected three dot-separated parts)");
  Decoded out;
  EXTDATA_ASSIGN_OR_RETURN(out.header, decode_part(token.substr(0, a), "header"));
  EXTDATA_ASSIGN_OR_RETURN(out.payload, decode_part(token.substr(a + 1, b - a - 1), "payload"));
  return out;
}

Result<std::string> sign(nlohmann::json header, const nlohmann::json& payload, EVP_PKEY* key,
                         Algorithm alg) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    return Error("jwt.sign_failed", std::string(name(alg)) + " needs an RSA private key");
  header["alg"] = std::string(name(alg));
  if (!header.contains("typ")) header["typ"] = "JWT";
  const std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pkey_ctx, EVP_sha256(), nullptr, key) != 1)
    return Error("jwt.sign_failed", "could not start signing: " + openssl_error());
  if (alg == Algorithm::ps256) {
    // RFC 7518 §3.5: PSS with MGF1-SHA256 and a salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, EVP_sha256()) != 1)
      return Error("jwt.sign_failed", "could not set up RSA-PSS: " + openssl_error());
  }
  size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1)
    return Error("jwt.sign_failed", "could not sign: " + openssl_error());
  std::string signature(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1)
    return Error("jwt.sign_failed", "could not sign: " + openssl_error());
  signature.resize(sig_len);
  return signing_input + "." + base64url_encode(signature);
}

}  // namespace extdata::auth::jwt
