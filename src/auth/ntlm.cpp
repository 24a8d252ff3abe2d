#include "auth/ntlm.h"

#include "auth/config_fields.h"
#include "core/redact.h"

namespace extdata::auth {

NtlmCredential::NtlmCredential(std::string username, std::string password)
    : username_(std::move(username)), password_(std::move(password)) {
  register_secret(password_);
}

Result<std::shared_ptr<Credential>> NtlmCredential::create(const nlohmann::json& auth,
                                                           const CredentialDeps&) {
  EXTDATA_ASSIGN_OR_RETURN(std::string username, required_string(auth, "username"));
  EXTDATA_ASSIGN_OR_RETURN(std::string password, required_string(auth, "password"));
  EXTDATA_TRY(check_header_text(username, "username", false));
  EXTDATA_TRY(check_header_text(password, "password", false));
  return std::shared_ptr<Credential>(
      std::make_shared<NtlmCredential>(std::move(username), std::move(password)));
}

Status NtlmCredential::apply(http::Request& request) {
  request.http_auth =
      http::Request::HttpAuth{http::Request::HttpAuth::Scheme::ntlm, username_, password_};
  return ok_status();
}

Result<AuthReport> NtlmCredential::authenticate() {
  AuthReport report;
  report.method = "ntlm";
  report.token_type = "NTLM";
  report.claims = {{"username", username_}};
  return report;
}

namespace methods {
const AuthMethod& ntlm() {
  static const config::Schema table{
      .name = "ntlm",
      .settings = {
          config::settings::string("username", "User name, DOMAIN\\user or user@domain", true),
          config::settings::secret("password", "Password", true)}};
  static const AuthMethod method{
      {"ntlm", "NTLM", "Windows integrated authentication (NTLM) through libcurl.", &table},
      &NtlmCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
