#include "auth/oauth2/client_certificate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "auth/oauth2/base64url.h"
#include "auth_test_support.h"

namespace extdata::auth {
namespace {

const testing::TestKeyPair& keys() {
  static const testing::TestKeyPair k = testing::make_key_pair(90L * 86400, "extdata-cert-test");
  return k;
}

std::string write_temp(const std::string& name, const std::string& content) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("extdata-auth-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

std::string thumbprint(const std::string& cert_pem, const EVP_MD* md) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(x.get(), md, out, &len);
  return base64url_encode(std::string(reinterpret_cast<char*>(out), len));
}

TEST(ClientCertificate, LoadsPemTextAndComputesThumbprints) {
  auto cert = ClientCertificate::load(keys().certificate_pem, keys().private_key_pem);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ((*cert)->x5t(), thumbprint(keys().certificate_pem, EVP_sha1()));
  EXPECT_EQ((*cert)->x5t_s256(), thumbprint(keys().certificate_pem, EVP_sha256()));
  EXPECT_EQ((*cert)->x5t().size(), 27u);  // 20 bytes, unpadded base64url
  EXPECT_EQ((*cert)->fingerprint().size(), 64u);
  EXPECT_NE((*cert)->subject().find("extdata-cert-test"), std::string::npos);
  const auto validity = (*cert)->not_after() - std::chrono::system_clock::now();
  EXPECT_GT(validity, std::chrono::hours(24 * 89));
  EXPECT_LT(validity, std::chrono::hours(24 * 91));
}

TEST(ClientCertificate, LoadsFilesAndCombinedPem) {
  const auto cert_path = write_temp("cert.pem", keys().certificate_pem);
  const auto key_path = write_temp("key.pem", keys().private_key_pem);
  auto from_files = ClientCertificate::load(cert_path, key_path);
  ASSERT_TRUE(from_files.ok()) << from_files.error().message;
  const auto combined = write_temp("combined.pem", keys().certificate_pem + keys().private_key_pem);
  auto from_combined = ClientCertificate::load(combined, "");
  ASSERT_TRUE(from_combined.ok()) << from_combined.error().message;
  EXPECT_EQ((*from_combined)->x5t(), (*from_files)->x5t());
}

TEST(ClientCertificate, UnreadableKeyFileNamesTheKey) {
  auto missing = ClientCertificate::load(keys().certificate_pem, "/nonexistent/extdata/key.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "auth.unreadable_file");
  EXPECT_EQ(missing.error().details.at("key"), "client_certificate.private_key");
  EXPECT_NE(missing.error().message.find("/nonexistent/extdata/key.pem"), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);

  if (getuid() != 0) {  // root reads anything
    const auto locked = write_temp("locked.pem", keys().private_key_pem);
    chmod(locked.c_str(), 0);
    auto denied = ClientCertificate::load(keys().certificate_pem, locked);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, "auth.unreadable_file");
  }
  auto not_pem =
      ClientCertificate::load(keys().certificate_pem, write_temp("garbage.der", "\x30\x82garbage"));
  ASSERT_FALSE(not_pem.ok());
  EXPECT_EQ(not_pem.error().code, "auth.not_pem");
  EXPECT_EQ(not_pem.error().details.at("key"), "client_certificate.private_key");
}

TEST(ClientCertificate, CertificateThatDoesNotMatchTheKeyIsRefused) {
  const auto other = testing::make_key_pair();
  auto mismatch = ClientCertificate::load(keys().certificate_pem, other.private_key_pem);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, "auth.certificate_key_mismatch");
  EXPECT_EQ(mismatch.error().details.at("key"), "client_certificate");
}

TEST(ClientCertificate, BrokenInputsGetClearErrors) {
  auto bad_cert = ClientCertificate::load(
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", keys().private_key_pem);
  ASSERT_FALSE(bad_cert.ok());
  EXPECT_EQ(bad_cert.error().code, "auth.bad_certificate");
  EXPECT_EQ(bad_cert.error().details.at("key"), "client_certificate.certificate");

  auto no_key = ClientCertificate::load(keys().certificate_pem, "");
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code, "auth.missing_key");
  EXPECT_EQ(no_key.error().details.at("key"), "client_certificate.private_key");

  auto encrypted = ClientCertificate::load(
      keys().certificate_pem,
      "-----BEGIN ENCRYPTED PRIVATE "
      "KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END "
      "ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_FALSE(encrypted.ok());
  EXPECT_EQ(encrypted.error().code, "auth.encrypted_key");

  auto corrupt_key = ClientCertificate::load(
      keys().certificate_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(corrupt_key.ok());
  EXPECT_EQ(corrupt_key.error().code, "auth.bad_private_key");
}

}  // namespace
}  // namespace extdata::auth
