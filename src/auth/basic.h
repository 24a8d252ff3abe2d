#pragma once
// type: basic — HTTP Basic authentication (RFC 7617): username + password.
#include "auth/credential.h"

namespace extdata::auth {

class BasicCredential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  BasicCredential(std::string username, std::string password);
  std::string_view type() const override { return "basic"; }
  Status apply(http::Request& request) override;
  Result<AuthReport> authenticate() override;

 private:
  std::string username_;
  std::string header_value_;
};

}  // namespace extdata::auth
