#include "crypto.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>

namespace graphsim {

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string digest(const EVP_MD* md, std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

int decode_char(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (url ? c == '-' : c == '+') return 62;
  if (url ? c == '_' : c == '/') return 63;
  return -1;
}

std::optional<std::string> decode(std::string_view text, bool url) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned int buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c, url);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, true);
}
std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, false);
}

std::string sha1(std::string_view bytes) {
  return digest(EVP_sha1(), bytes);
}
std::string sha256(std::string_view bytes) {
  return digest(EVP_sha256(), bytes);
}

std::string hex_upper(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

bool verify_rsa_signature(EVP_PKEY* public_key, JwsAlg alg, std::string_view signing_input,
                          std::string_view signature) {
  if (public_key == nullptr || EVP_PKEY_base_id(public_key) != EVP_PKEY_RSA) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, EVP_sha256(), nullptr, public_key) != 1) {
    return false;
  }
  if (alg == JwsAlg::PS256) {
    // RFC 7518 §3.5: PSS with MGF1-SHA256 and a salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

Result<std::shared_ptr<SigningKey>> SigningKey::generate(int bits) {
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (raw == nullptr) return Error("graphsim.keygen", "could not generate an RSA signing key");
  auto key = std::make_shared<SigningKey>();
  key->key_.reset(raw);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(raw, &der);
  if (len <= 0) return Error("graphsim.keygen", "could not encode the RSA public key");
  key->key_id_ = base64url_encode(sha1(std::string_view(reinterpret_cast<char*>(der), len)));
  OPENSSL_free(der);
  return key;
}

std::string SigningKey::sign_rs256(std::string_view signing_input) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return {};
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return {};
  }
  signature.resize(len);
  return signature;
}

bool SigningKey::verify_rs256(std::string_view signing_input, std::string_view signature) const {
  return verify_rsa_signature(key_.get(), JwsAlg::RS256, signing_input, signature);
}

Result<Certificate> parse_certificate_pem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return Error("graphsim.certificate", "not a PEM certificate",
                 "expected a '-----BEGIN CERTIFICATE-----' block");
  }
  Certificate out;
  out.pem = std::string(pem);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return Error("graphsim.certificate", "could not encode the certificate");
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  std::string sha1_digest = sha1(out.der);
  out.x5t = base64url_encode(sha1_digest);
  out.x5t_s256 = base64url_encode(sha256(out.der));
  out.thumbprint = hex_upper(sha1_digest);
  EVP_PKEY* key = X509_get_pubkey(cert.get());
  if (key == nullptr || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return Error("graphsim.certificate", "the certificate does not carry an RSA public key",
                 "Entra client assertions use RS256/PS256: register an RSA certificate");
  }
  out.public_key = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
  return out;
}

std::optional<CompactJwt> split_jwt(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto header = base64url_decode(token.substr(0, first));
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature) return std::nullopt;
  CompactJwt jwt;
  jwt.header_json = std::move(*header);
  jwt.payload_json = std::move(*payload);
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::move(*signature);
  return jwt;
}

}  // namespace graphsim
