#include "auth/config_fields.h"
#include "auth/credential.h"

namespace extdata::auth {

// The auth methods, one entry each. A method's file defines `methods::NAME()`.
#define EXTDATA_AUTH_METHODS(X) X(none) X(basic) X(bearer) X(api_key) X(headers) X(ntlm) X(oauth2)

namespace methods {
#define EXTDATA_DECLARE_METHOD(name) const AuthMethod& name();
EXTDATA_AUTH_METHODS(EXTDATA_DECLARE_METHOD)
#undef EXTDATA_DECLARE_METHOD
}  // namespace methods

namespace {

const std::vector<const AuthMethod*>& all_methods() {
#define EXTDATA_LIST_METHOD(name) &methods::name(),
  static const std::vector<const AuthMethod*> list = {EXTDATA_AUTH_METHODS(EXTDATA_LIST_METHOD)};
#undef EXTDATA_LIST_METHOD
  return list;
}

}  // namespace

void register_builtin_methods() {
  for (const AuthMethod* m : all_methods()) config::catalog().add_auth(m->declaration);
}

Result<std::shared_ptr<Credential>> make_credential(const nlohmann::json& auth,
                                                    const CredentialDeps& deps) {
  if (auth.is_null()) return methods::none().create(auth, deps);
  if (!auth.is_object())
    return config_error("config.wrong_type", "", "auth must be an object with a type");
  EXTDATA_ASSIGN_OR_RETURN(std::string type, optional_string(auth, "type"));
  if (type.empty()) type = "none";
  for (const AuthMethod* m : all_methods())
    if (m->declaration.type == type) return m->create(auth, deps);
  std::string known;
  for (const AuthMethod* m : all_methods())
    known += (known.empty() ? "" : ", ") + m->declaration.type;
  return config_error("config.bad_value", "type", "unknown auth type '" + type + "'",
                      "use one of " + known);
}

}  // namespace extdata::auth
