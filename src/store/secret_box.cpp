#include "store/secret_box.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/strings.h"

namespace extdata::store {

namespace {

Error bad_key(const std::string& why) {
  return Error("store.master_key", "the master key is not usable: " + why,
               "EXTDATA_MASTER_KEY must be 64 hex characters or base64 of 32 bytes "
               "(generate one with: openssl rand -hex 32).");
}

}  // namespace

Result<SecretBox> SecretBox::from_key_text(const std::string& raw) {
  if (sodium_init() < 0) return Error("store.crypto", "libsodium could not initialise", "");
  const std::string text(trim(raw));
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  size_t len = 0;
  if (text.size() == 2 * crypto_secretbox_KEYBYTES &&
      sodium_hex2bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(),
                     text.size(), nullptr, &len, nullptr) == 0 &&
      len == key.size()) {
    SecretBox box;
    box.key_ = key;
    return box;
  }
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) == 0 &&
      len == key.size()) {
    SecretBox box;
    box.key_ = key;
    return box;
  }
  return bad_key("expected 32 bytes as 64 hex characters or base64");
}

Result<SecretBox> SecretBox::open(const std::string& key_file) {
  if (sodium_init() < 0) return Error("store.crypto", "libsodium could not initialise", "");
  if (const char* env = std::getenv("EXTDATA_MASTER_KEY"); env && *env) return from_key_text(env);
  const std::string external = external_key_file();
  if (!external.empty() && external != "-" && ::access(external.c_str(), F_OK) != 0) {
    return Error("store.master_key", "the master key file " + external + " does not exist",
                 "EXTDATA_MASTER_KEY_FILE must name the key file (64 hex characters)");
  }
  if (!external.empty()) {
    // Read once per process: the file may be a pipe (EXTDATA_MASTER_KEY_FILE=/dev/stdin with
    // the key on the standard input, docs/operations.md).
    static std::mutex mu;
    static std::map<std::string, std::string> read;
    std::lock_guard lock(mu);
    auto it = read.find(external);
    if (it == read.end()) {
      std::string text;
      if (external == "-" || external == "/dev/stdin") {
        // Read from descriptor 0 as it is: opening /dev/stdin again would check the
        // permissions of the pipe's inode (root's) against this process's user.
        char buffer[512];
        ssize_t n;
        while (text.size() < 4096 && (n = ::read(0, buffer, sizeof buffer)) > 0)
          text.append(buffer, static_cast<size_t>(n));
      } else {
        struct stat st {};
        if (stat(external.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
          return Error("store.master_key",
                       "the key file " + external + " is readable by other users",
                       "Run: chmod 600 " + external);
        std::ifstream in(external);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
      }
      it = read.emplace(external, text).first;
    }
    auto box = from_key_text(it->second);
    if (!box.ok()) {
      Error e = std::move(box).error();
      e.message = "the key file " + external + " is not usable: " + e.message;
      return e;
    }
    return box;
  }
  std::ifstream in(key_file);
  if (in) {
    const std::string& path = key_file;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      return Error("store.master_key", "the key file " + path + " is readable by other users",
                   "Run: chmod 600 " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto box = from_key_text(ss.str());
    if (!box.ok()) {
      Error e = std::move(box).error();
      e.message = "the key file " + path + " is not usable: " + e.message;
      return e;
    }
    return box;
  }
  unsigned char key[crypto_secretbox_KEYBYTES];
  randombytes_buf(key, sizeof key);
  char hex[2 * crypto_secretbox_KEYBYTES + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return Error("store.master_key", "cannot create the key file " + key_file,
                 "Check that the data directory is writable, or set EXTDATA_MASTER_KEY.");
  std::string line = std::string(hex) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fsync(fd);
  ::close(fd);
  sodium_memzero(hex, sizeof hex);
  if (!ok)
    return Error("store.master_key", "cannot write the key file " + key_file,
                 "Check free disk space.");
  SecretBox box;
  box.key_.assign(reinterpret_cast<char*>(key), sizeof key);
  sodium_memzero(key, sizeof key);
  return box;
}

std::string SecretBox::external_key_file() {
  if (const char* file = std::getenv("EXTDATA_MASTER_KEY_FILE"); file && *file) return file;
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
    const std::string credential = std::string(dir) + "/master.key";
    if (::access(credential.c_str(), F_OK) == 0) return credential;
  }
  return {};
}

bool SecretBox::key_outside_data_dir() {
  const char* env = std::getenv("EXTDATA_MASTER_KEY");
  return (env && *env) || !external_key_file().empty();
}

std::string SecretBox::seal(const std::string& plaintext) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  return out;
}

Result<std::string> SecretBox::unseal(const std::string& sealed) const {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Error("store.corrupt", "a sealed secret is truncated", "Set the secret again.");
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                 nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return Error("store.master_key", "a stored secret cannot be decrypted with this master key",
                 "Use the master key the data directory was created with (EXTDATA_MASTER_KEY or "
                 "master.key).");
  return out;
}

std::string SecretBox::key_check() const {
  unsigned char hash[crypto_generichash_BYTES];
  static const std::string label = "extdata master key check";
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(label.data()),
                     label.size(), reinterpret_cast<const unsigned char*>(key_.data()),
                     key_.size());
  char hex[2 * sizeof hash + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

}  // namespace extdata::store
