#pragma once
// Secrets at rest: libsodium secretbox (XSalsa20-Poly1305) under a 32-byte master key.
#include <string>

#include "core/error.h"

namespace extdata::store {

class SecretBox {
 public:
  // Key from EXTDATA_MASTER_KEY (64 hex chars or base64 of 32 bytes), else from the file
  // external_key_file() names, else from `key_file`, generated with mode 0600 on first use.
  static Result<SecretBox> open(const std::string& key_file);
  // A key file named outside the data directory, never generated: EXTDATA_MASTER_KEY_FILE ("-":
  // the standard input, read once), else
  // master.key in systemd's $CREDENTIALS_DIRECTORY (LoadCredential=master.key:PATH) when it is
  // there. Empty when neither applies.
  static std::string external_key_file();
  // True when the key comes from outside the data directory (the variable or a key file).
  static bool key_outside_data_dir();
  static Result<SecretBox> from_key_text(const std::string& text);

  std::string seal(const std::string& plaintext) const;  // nonce || ciphertext
  Result<std::string> unseal(const std::string& sealed) const;
  // Identifies the key without revealing it (stored beside the data to detect a wrong key).
  std::string key_check() const;

 private:
  std::string key_;
};

}  // namespace extdata::store
