#include "store/stored_config.h"

#include <sodium.h>

#include <chrono>

#include "core/redact.h"

namespace extdata::store::stored {

using nlohmann::json;

namespace {

std::string with_pointers(json masked, const std::set<std::string>& pointers) {
  masked["$secrets"] = json(pointers);
  return masked.dump();
}

// The spec without "$secrets", its pointers, and the secrets unsealed into it.
Result<json> open_spec(const std::string& text, const std::vector<SealedSecret>& secrets,
                       const SecretBox& box, std::set<std::string>& pointers, const char* what) {
  json spec = json::parse(text, nullptr, false);
  if (spec.is_discarded() || !spec.is_object())
    return Error("store.corrupt", std::string("a stored ") + what + " is not valid JSON",
                 std::string("Re-apply the ") + what + ".");
  for (const auto& p : spec.value("$secrets", json::array())) pointers.insert(p.get<std::string>());
  spec.erase("$secrets");
  for (const auto& secret : secrets) {
    EXTDATA_ASSIGN_OR_RETURN(std::string plain, box.unseal(secret.sealed));
    register_secret(plain);
    spec[json::json_pointer(secret.pointer)] = plain;
  }
  return spec;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(2 * bytes + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}

}  // namespace

std::string encode_source(const config::SourceConfig& source) {
  return with_pointers(source.masked(), source.secret_pointers);
}

std::string encode_target(const config::TargetConfig& target) {
  return with_pointers(target.masked(), target.secret_pointers);
}

std::vector<SealedSecret> seal_secrets(const json& spec, const std::set<std::string>& pointers,
                                       const SecretBox& box) {
  std::vector<SealedSecret> out;
  for (const auto& ptr : pointers) {
    json::json_pointer p(ptr);
    if (!spec.contains(p)) continue;
    out.push_back({ptr, box.seal(spec[p].get<std::string>())});
  }
  return out;
}

Result<config::SourceConfig> decode_source(const std::string& text,
                                           const std::vector<SealedSecret>& secrets,
                                           const SecretBox& box) {
  config::SourceConfig src;
  EXTDATA_ASSIGN_OR_RETURN(json spec, open_spec(text, secrets, box, src.secret_pointers, "source"));
  src.name = spec.value("name", "");
  src.type = spec.value("type", "");
  src.spec = std::move(spec);
  return src;
}

Result<config::TargetConfig> decode_target(const std::string& text,
                                           const std::vector<SealedSecret>& secrets,
                                           const SecretBox& box) {
  config::TargetConfig target;
  EXTDATA_ASSIGN_OR_RETURN(json spec,
                           open_spec(text, secrets, box, target.secret_pointers, "target"));
  target.name = spec.value("name", "");
  target.type = spec.value("type", "");
  target.field = spec.value("field", "");
  target.spec = std::move(spec);
  return target;
}

config::FieldConfig decode_field(std::string name, std::string source,
                                 const std::string& spec_text) {
  config::FieldConfig f;
  f.name = std::move(name);
  f.source = std::move(source);
  f.spec = json::parse(spec_text, nullptr, false);
  return f;
}

Written plan_source_write(const std::optional<Versioned<config::SourceConfig>>& current,
                          const config::SourceConfig& next) {
  if (!current) return Written{Change::created, {}, {}};
  const config::SourceConfig& old = current->value;
  if (old.type == next.type && old.spec == next.spec && old.secret_pointers == next.secret_pointers)
    return Written{Change::unchanged, current->version, {}};
  std::set<std::string> secrets = old.secret_pointers;
  secrets.insert(next.secret_pointers.begin(), next.secret_pointers.end());
  return Written{Change::updated, {}, config::diff_specs(old.spec, next.spec, secrets)};
}

Written plan_field_write(const std::optional<Versioned<config::FieldConfig>>& current,
                         const config::FieldConfig& next) {
  if (!current) return Written{Change::created, {}, {}};
  if (current->value.source == next.source && current->value.spec == next.spec)
    return Written{Change::unchanged, current->version, {}};
  return Written{Change::updated, {}, config::diff_specs(current->value.spec, next.spec, {})};
}

Written plan_target_write(const std::optional<config::TargetConfig>& current,
                          const config::TargetConfig& next) {
  if (!current) return Written{Change::created, {}, {}};
  if (current->spec == next.spec) return Written{Change::unchanged, {}, {}};
  return Written{Change::updated, {}, config::diff_specs(current->masked(), next.masked(), {})};
}

NewToken new_token() {
  NewToken t;
  t.id = random_hex(6);
  t.secret = "edt_" + t.id + "_" + random_hex(24);
  return t;
}

std::string sha256_hex(const std::string& in) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  char hex[2 * sizeof out + 1];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}

Status check_token_role(const std::string& role) {
  if (role == "admin" || role == "reader") return ok_status();
  return Error("token.role", "unknown role '" + role + "'", "Use --role admin or --role reader.");
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json sync_to_json(const SyncStatus& s) {
  if (s.mode.empty()) return json::object();
  return {{"mode", s.mode},
          {"last_full_at", s.last_full_at},
          {"last_full_records", s.last_full_records},
          {"last_incremental_at", s.last_incremental_at},
          {"last_added", s.last_added},
          {"last_updated", s.last_updated},
          {"last_removed", s.last_removed},
          {"note", s.note}};
}

SyncStatus sync_from_text(const std::string& text) {
  SyncStatus s;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return s;
  s.mode = j.value("mode", "");
  s.last_full_at = j.value("last_full_at", std::int64_t{0});
  s.last_full_records = j.value("last_full_records", std::size_t{0});
  s.last_incremental_at = j.value("last_incremental_at", std::int64_t{0});
  s.last_added = j.value("last_added", std::size_t{0});
  s.last_updated = j.value("last_updated", std::size_t{0});
  s.last_removed = j.value("last_removed", std::size_t{0});
  s.note = j.value("note", "");
  return s;
}

Error wrong_master_key(const std::string& where, const std::string& hint) {
  return Error("store.master_key",
               "the master key does not match the one " + where + " was created with", hint);
}

}  // namespace extdata::store::stored
