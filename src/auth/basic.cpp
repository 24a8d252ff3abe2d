#include "auth/basic.h"

#include "auth/config_fields.h"
#include "auth/oauth2/base64url.h"
#include "core/redact.h"

namespace extdata::auth {

BasicCredential::BasicCredential(std::string username, std::string password)
    : username_(std::move(username)),
      header_value_("Basic " + base64_encode(username_ + ":" + password)) {
  register_secret(password);
  register_secret(header_value_.substr(6));
}

Result<std::shared_ptr<Credential>> BasicCredential::create(const nlohmann::json& auth,
                                                            const CredentialDeps&) {
  EXTDATA_ASSIGN_OR_RETURN(std::string username, required_string(auth, "username"));
  EXTDATA_ASSIGN_OR_RETURN(std::string password, optional_string(auth, "password"));
  if (username.find(':') != std::string::npos)
    return config_error("auth.bad_username", "username",
                        "a Basic username cannot contain ':' (RFC 7617)",
                        "for a domain account use type: ntlm");
  EXTDATA_TRY(check_header_text(username, "username", false));
  EXTDATA_TRY(check_header_text(password, "password", false));
  return std::shared_ptr<Credential>(
      std::make_shared<BasicCredential>(std::move(username), std::move(password)));
}

Status BasicCredential::apply(http::Request& request) {
  http::set_header(request.headers, "Authorization", header_value_);
  return ok_status();
}

Result<AuthReport> BasicCredential::authenticate() {
  AuthReport report;
  report.method = "basic";
  report.token_type = "Basic";
  report.claims = {{"username", username_}};
  return report;
}

namespace methods {
const AuthMethod& basic() {
  static const config::Schema table{
      .name = "basic",
      .settings = {config::settings::string("username", "User name", true),
                   config::settings::secret("password", "Password", true)}};
  static const AuthMethod method{
      {"basic", "HTTP Basic", "A user name and password sent with every request (RFC 7617).",
       &table},
      &BasicCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
