#include "auth/oauth2/jwt.h"

#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include "auth/oauth2/base64url.h"
#include "auth/oauth2/client_certificate.h"
#include "auth_test_support.h"

namespace extdata::auth {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64url_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64url_decode("Zm8=").value(), "fo");
  EXPECT_EQ(base64url_decode("-_-_").value(), std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(base64_decode("Zm9vYmFy").value(), "foobar");
}

TEST(Base64, RejectsForeignAlphabetAndBadLengths) {
  EXPECT_FALSE(base64url_decode("+/+/").has_value());
  EXPECT_FALSE(base64_decode("-_-_").has_value());
  EXPECT_FALSE(base64url_decode("Z").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v!").has_value());
  EXPECT_FALSE(base64url_decode("Zm9=").has_value()) << "non-zero trailing bits";
}

TEST(Base64, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n < all.size(); n += 37) {
    const std::string s = all.substr(0, n);
    EXPECT_EQ(base64url_decode(base64url_encode(s)).value(), s);
    EXPECT_EQ(base64_decode(base64_encode(s)).value(), s);
  }
}

std::string make_unsigned_jwt(const nlohmann::json& payload) {
  return base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
         base64url_encode(payload.dump()) + ".";
}

TEST(Jwt, DecodesClaimsWithoutVerifying) {
  const auto token =
      make_unsigned_jwt({{"aud", "https://graph.microsoft.com"}, {"roles", {"Sites.Read.All"}}});
  auto decoded = jwt::decode(token);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->header["alg"], "none");
  EXPECT_EQ(decoded->payload["aud"], "https://graph.microsoft.com");
  EXPECT_TRUE(jwt::looks_like_jwt(token));
}

TEST(Jwt, RejectsMalformedTokensWithoutEchoingThem) {
  for (const std::string& bad : std::vector<std::string>{
           "", "opaque-token-value", "a.b", "a.b.c.d", "!!!.e30.",
           base64url_encode("[1]") + ".e30.", base64url_encode("{}") + ".bm90IGpzb24."}) {
    auto decoded = jwt::decode(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.error().code, "jwt.malformed");
    if (bad.size() > 4) {
      EXPECT_EQ(decoded.error().message.find(bad), std::string::npos);
    }
    EXPECT_FALSE(jwt::looks_like_jwt(bad));
  }
}

bool verify(const std::string& token, const std::string& public_pem, jwt::Algorithm alg) {
  const size_t dot = token.rfind('.');
  const std::string input = token.substr(0, dot);
  const std::string sig = base64url_decode(token.substr(dot + 1)).value();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pub.get());
  if (alg == jwt::Algorithm::ps256) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

const testing::TestKeyPair& keys() {
  static const testing::TestKeyPair k = testing::make_key_pair();
  return k;
}

TEST(Jwt, SignsRs256AndPs256VerifiablyWithThePublicKey) {
  auto cert = ClientCertificate::load(keys().certificate_pem, keys().private_key_pem);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  for (auto alg : {jwt::Algorithm::rs256, jwt::Algorithm::ps256}) {
    auto token = jwt::sign({{"kid", "k1"}}, {{"sub", "app"}}, (*cert)->private_key(), alg);
    ASSERT_TRUE(token.ok()) << token.error().message;
    auto decoded = jwt::decode(*token);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->header["alg"], std::string(jwt::name(alg)));
    EXPECT_EQ(decoded->header["typ"], "JWT");
    EXPECT_EQ(decoded->header["kid"], "k1");
    EXPECT_EQ(decoded->payload["sub"], "app");
    EXPECT_TRUE(verify(*token, keys().public_key_pem, alg));
    // A changed payload must not verify: the signature covers it.
    std::string tampered = *token;
    const size_t dot = tampered.find('.');
    tampered.replace(dot + 1, tampered.find('.', dot + 1) - dot - 1,
                     base64url_encode(R"({"sub":"evil"})"));
    EXPECT_FALSE(verify(tampered, keys().public_key_pem, alg));
  }
  // The other algorithm's padding does not verify.
  auto rs = jwt::sign({}, {{"a", 1}}, (*cert)->private_key(), jwt::Algorithm::rs256);
  EXPECT_FALSE(verify(*rs, keys().public_key_pem, jwt::Algorithm::ps256));
}

TEST(Jwt, RefusesToSignWithoutAnRsaKey) {
  auto token = jwt::sign({}, {}, nullptr, jwt::Algorithm::rs256);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "jwt.sign_failed");
}

}  // namespace
}  // namespace extdata::auth
