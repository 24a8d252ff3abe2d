#include "auth/credential.h"

#include "auth/api_key.h"
#include "auth/basic.h"
#include "auth/bearer.h"
#include "auth/config_fields.h"
#include "auth/custom_headers.h"
#include "auth/none.h"
#include "auth/ntlm.h"
#include "auth/oauth2.h"

namespace extdata::auth {

namespace {

using Factory = Result<std::shared_ptr<Credential>> (*)(const nlohmann::json&,
                                                        const CredentialDeps&);
struct Registration {
  std::string_view type;
  Factory create;
};

// One line per auth method.
constexpr Registration kMethods[] = {
    {"none", &NoCredential::create},
    {"basic", &BasicCredential::create},
    {"bearer", &BearerCredential::create},
    {"api_key", &ApiKeyCredential::create},
    {"headers", &CustomHeadersCredential::create},
    {"ntlm", &NtlmCredential::create},
    {"oauth2", &OAuth2Credential::create},
};

}  // namespace

std::vector<std::string_view> credential_types() {
  std::vector<std::string_view> out;
  for (const auto& m : kMethods) out.push_back(m.type);
  return out;
}

Result<std::shared_ptr<Credential>> make_credential(const nlohmann::json& auth,
                                                    const CredentialDeps& deps) {
  if (auth.is_null()) return NoCredential::create(auth, deps);
  if (!auth.is_object())
    return config_error("config.wrong_type", "", "auth must be an object with a type");
  EXTDATA_ASSIGN_OR_RETURN(std::string type, optional_string(auth, "type"));
  if (type.empty()) type = "none";
  for (const auto& m : kMethods)
    if (m.type == type) return m.create(auth, deps);
  std::string known;
  for (const auto& m : kMethods) known += (known.empty() ? "" : ", ") + std::string(m.type);
  return config_error("config.bad_value", "type", "unknown auth type '" + type + "'",
                      "use one of " + known);
}

}  // namespace extdata::auth
