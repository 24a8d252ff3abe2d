#include "auth/oauth2/client_certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "auth/oauth2/base64url.h"

namespace extdata::auth {

namespace {

constexpr std::string_view kCertKey = "client_certificate.certificate";
constexpr std::string_view kPrivateKeyKey = "client_certificate.private_key";

Error keyed(Error e, std::string_view key) {
  e.with("key", std::string(key));
  return e;
}

bool is_pem_text(std::string_view s) {
  return s.find("-----BEGIN ") != std::string_view::npos;
}

// PEM text as given, or the content of the file it names.
Result<std::string> pem_text(std::string_view value, std::string_view key, std::string_view what) {
  if (is_pem_text(value)) return std::string(value);
  if (value.empty())
    return keyed(Error("auth.missing_key", std::string(what) + " is empty",
                       "give the PEM text or the path of a PEM file"),
                 key);
  const std::string path(value);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return keyed(Error("auth.unreadable_file",
                       "cannot read the " + std::string(what) + " file '" + path +
                           "': " + std::strerror(err),
                       "check the path and that the extdata service user may read it")
                     .with("path", path),
                 key);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (!is_pem_text(text))
    return keyed(
        Error("auth.not_pem", "the " + std::string(what) + " file '" + path + "' is not PEM",
              "expected text starting with '-----BEGIN'; convert DER or PFX files "
              "with openssl (e.g. openssl pkcs12 -in cert.pfx -nodes -out cert.pem)")
            .with("path", path),
        key);
  return text;
}

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "no details";
}

// Never prompts for a passphrase on the terminal: encrypted keys are refused instead.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string digest(std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return Clock::time_point{std::chrono::seconds{timegm(&tm)}};
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  return to_hex(digest(data, EVP_sha256()));
}

Result<std::shared_ptr<const ClientCertificate>> ClientCertificate::load(
    std::string_view certificate, std::string_view private_key) {
  EXTDATA_ASSIGN_OR_RETURN(std::string cert_pem, pem_text(certificate, kCertKey, "certificate"));

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> x509(
      PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr), X509_free);
  if (!x509)
    return keyed(
        Error("auth.bad_certificate",
              "the certificate is not a readable PEM X.509 certificate (" + openssl_reason() + ")",
              "give the certificate registered on the application (-----BEGIN "
              "CERTIFICATE-----)"),
        kCertKey);

  std::string key_pem;
  std::string_view key_key = kPrivateKeyKey;
  if (private_key.empty()) {
    key_pem = cert_pem;  // combined PEM: certificate and key in one file
    key_key = kCertKey;
  } else {
    EXTDATA_ASSIGN_OR_RETURN(key_pem, pem_text(private_key, kPrivateKeyKey, "private key"));
  }
  if (key_pem.find("ENCRYPTED") != std::string::npos)
    return keyed(Error("auth.encrypted_key", "the private key is encrypted with a passphrase",
                       "store it unencrypted (openssl pkey -in key.pem -out key-plain.pem) and "
                       "protect the file instead (chmod 600)"),
                 key_key);
  if (key_pem.find("PRIVATE KEY-----") == std::string::npos)
    return keyed(Error("auth.missing_key", "no private key found",
                       "give client_certificate.private_key (-----BEGIN PRIVATE KEY-----)"),
                 private_key.empty() ? std::string_view(kPrivateKeyKey) : key_key);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  std::shared_ptr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  if (!key)
    return keyed(
        Error("auth.bad_private_key", "the private key cannot be read (" + openssl_reason() + ")",
              "give an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or "
              "-----BEGIN RSA PRIVATE KEY-----)"),
        key_key);
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return keyed(Error("auth.unsupported_key", "the private key is not an RSA key",
                       "RS256 and PS256 client assertions need an RSA key (2048 bits or more)"),
                 key_key);
  if (X509_check_private_key(x509.get(), key.get()) != 1) {
    ERR_clear_error();
    return keyed(Error("auth.certificate_key_mismatch",
                       "the certificate and the private key do not belong together",
                       "give the private key that was generated with this certificate"),
                 "client_certificate");
  }

  unsigned char* der = nullptr;
  const int der_len = i2d_X509(x509.get(), &der);
  if (der_len <= 0)
    return keyed(Error("auth.bad_certificate", "the certificate cannot be encoded as DER"),
                 kCertKey);
  const std::string der_bytes(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);

  std::shared_ptr<ClientCertificate> out(new ClientCertificate());
  out->key_ = std::move(key);
  out->x5t_ = base64url_encode(digest(der_bytes, EVP_sha1()));
  const std::string sha256 = digest(der_bytes, EVP_sha256());
  out->x5t_s256_ = base64url_encode(sha256);
  out->fingerprint_hex_ = to_hex(sha256);
  out->not_before_ = to_time_point(X509_get0_notBefore(x509.get()));
  out->not_after_ = to_time_point(X509_get0_notAfter(x509.get()));
  if (char* subject = X509_NAME_oneline(X509_get_subject_name(x509.get()), nullptr, 0)) {
    out->subject_ = subject;
    OPENSSL_free(subject);
  }
  return std::shared_ptr<const ClientCertificate>(std::move(out));
}

}  // namespace extdata::auth
