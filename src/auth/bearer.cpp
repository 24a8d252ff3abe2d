#include "auth/bearer.h"

#include "auth/config_fields.h"
#include "auth/diagnostics.h"
#include "auth/oauth2/jwt.h"
#include "core/redact.h"

namespace extdata::auth {

BearerCredential::BearerCredential(std::string token, Clock& clock)
    : token_(std::move(token)), clock_(clock) {
  register_secret(token_);
  if (auto decoded = jwt::decode(token_); decoded.ok()) {
    if (auto exp = decoded->payload.find("exp"); exp != decoded->payload.end() && exp->is_number())
      expires_at_ = Clock::time_point{std::chrono::seconds{exp->get<long long>()}};
  }
}

Result<std::shared_ptr<Credential>> BearerCredential::create(const nlohmann::json& auth,
                                                             const CredentialDeps& deps) {
  EXTDATA_ASSIGN_OR_RETURN(std::string token, required_string(auth, "token"));
  EXTDATA_TRY(check_header_text(token, "token", false));
  if (token.find_first_of(" \t") != std::string::npos)
    return config_error("auth.bad_token", "token", "the token contains white space",
                        "give the token alone, without the word Bearer");
  return std::shared_ptr<Credential>(
      std::make_shared<BearerCredential>(std::move(token), deps.clock));
}

Status BearerCredential::apply(http::Request& request) {
  http::set_header(request.headers, "Authorization", "Bearer " + token_);
  return ok_status();
}

Result<AuthReport> BearerCredential::authenticate() {
  AuthReport report;
  report.method = "bearer";
  report.token_type = "Bearer";
  report.token = token_;
  report.claims = token_claims(token_);
  if (expires_at_)
    report.expires_in =
        std::chrono::duration_cast<std::chrono::seconds>(*expires_at_ - clock_.now()).count();
  return report;
}

std::vector<ExpiringSecret> BearerCredential::expiring_secrets() const {
  if (!expires_at_) return {};
  return {ExpiringSecret{"bearer token", *expires_at_, 30}};
}

namespace methods {
const AuthMethod& bearer() {
  static const config::Schema table{
      .name = "bearer", .settings = {config::settings::secret("token", "The token", true)}};
  static const AuthMethod method{
      {"bearer", "Bearer token", "A static token sent as Authorization: Bearer.", &table},
      &BearerCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
