#include "auth/none.h"

namespace extdata::auth {

Result<std::shared_ptr<Credential>> NoCredential::create(const nlohmann::json&,
                                                         const CredentialDeps&) {
  return std::shared_ptr<Credential>(std::make_shared<NoCredential>());
}

Result<AuthReport> NoCredential::authenticate() {
  AuthReport report;
  report.method = "none";
  report.token_type = "none";
  return report;
}

namespace methods {
const AuthMethod& none() {
  static const config::Schema table{.name = "none", .settings = {}};
  static const AuthMethod method{{"none", "No credentials", "Requests go out as they are.", &table},
                                 &NoCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
