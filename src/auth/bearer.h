#pragma once
// type: bearer — a static token sent as "Authorization: Bearer <token>". When the token
// is a JWT its claims and expiry are reported.
#include "auth/credential.h"

namespace extdata::auth {

class BearerCredential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  BearerCredential(std::string token, Clock& clock);
  std::string_view type() const override { return "bearer"; }
  Status apply(http::Request& request) override;
  Result<AuthReport> authenticate() override;
  std::vector<ExpiringSecret> expiring_secrets() const override;

 private:
  std::string token_;
  Clock& clock_;
  std::optional<Clock::time_point> expires_at_;  // the JWT's exp claim
};

}  // namespace extdata::auth
