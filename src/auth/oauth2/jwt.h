#pragma once
// JSON Web Tokens: decoding without verification (diagnostics only: which audience,
// tenant, roles a token carries) and RS256/PS256 signing for client assertions.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata::auth::jwt {

struct Decoded {
  nlohmann::json header;
  nlohmann::json payload;
};

// True when `token` decodes as a JWT (header.payload.signature with JSON parts).
bool looks_like_jwt(std::string_view token);

// Splits and base64url-decodes a compact JWS. The signature is NOT checked: clients are
// told not to validate access tokens, and we only read claims to explain failures.
// Errors: jwt.malformed (never echoes the token).
Result<Decoded> decode(std::string_view token);

enum class Algorithm { rs256, ps256 };
std::string_view name(Algorithm alg);

// Compact JWS over `payload`, `header` gets "alg" (and "typ":"JWT" when absent).
// `key` must be an RSA private key. Errors: jwt.sign_failed.
Result<std::string> sign(nlohmann::json header, const nlohmann::json& payload, EVP_PKEY* key,
                         Algorithm alg);

}  // namespace extdata::auth::jwt
