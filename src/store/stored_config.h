#pragma once
// What both stores (sqlite/, postgres/) share about how configuration is kept: a source's or
// target's spec is stored masked with its secret pointers under "$secrets", each secret
// sealed on its own with the master key; a write first compares with what is stored and is
// `unchanged` when nothing differs. Also the small helpers of tokens and status.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "store/secret_box.h"
#include "store/store.h"

namespace extdata::store::stored {

struct SealedSecret {
  std::string pointer;  // JSON pointer into the spec
  std::string sealed;   // SecretBox::seal of the plain value
};

// The spec text kept in the table (secrets masked, their pointers under "$secrets").
std::string encode_source(const config::SourceConfig& source);
std::string encode_target(const config::TargetConfig& target);
// The secrets of `spec` at `pointers`, sealed (pointers the spec lacks are skipped).
std::vector<SealedSecret> seal_secrets(const nlohmann::json& spec,
                                       const std::set<std::string>& pointers, const SecretBox& box);
// The stored text back, with its secrets unsealed and registered for redaction.
// store.corrupt when the text is not a JSON object; store.master_key when a secret does not
// open with this key.
Result<config::SourceConfig> decode_source(const std::string& text,
                                           const std::vector<SealedSecret>& secrets,
                                           const SecretBox& box);
Result<config::TargetConfig> decode_target(const std::string& text,
                                           const std::vector<SealedSecret>& secrets,
                                           const SecretBox& box);
config::FieldConfig decode_field(std::string name, std::string source,
                                 const std::string& spec_text);

// What writing `next` over `current` (nullopt: none stored) does: unchanged (with the stored
// version), updated (with the keys that changed, secrets only named) or created. The version
// of a created or updated item is left for the caller to fill in.
Written plan_source_write(const std::optional<Versioned<config::SourceConfig>>& current,
                          const config::SourceConfig& next);
Written plan_field_write(const std::optional<Versioned<config::FieldConfig>>& current,
                         const config::FieldConfig& next);
Written plan_target_write(const std::optional<config::TargetConfig>& current,
                          const config::TargetConfig& next);

// The owner of a source's or target's secrets in the secrets table.
inline std::string source_owner(const std::string& name) {
  return "source:" + name;
}
inline std::string target_owner(const std::string& name) {
  return "target:" + name;
}

// An API token's secret ("edt_<id>_<random>") and its public id; tokens are kept as
// sha256_hex(secret).
struct NewToken {
  std::string id, secret;
};
NewToken new_token();
std::string sha256_hex(const std::string& in);
// token.role unless role is admin or reader.
Status check_token_role(const std::string& role);

std::int64_t unix_now();

nlohmann::json sync_to_json(const SyncStatus& s);
SyncStatus sync_from_text(const std::string& text);

// The key check stored beside the data does not match the key in use.
Error wrong_master_key(const std::string& where, const std::string& hint);

}  // namespace extdata::store::stored
