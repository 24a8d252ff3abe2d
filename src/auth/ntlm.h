#pragma once
// type: ntlm — Windows (NTLM) authentication, negotiated by libcurl. username may be
// DOMAIN\user.
#include "auth/credential.h"

namespace extdata::auth {

class NtlmCredential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  NtlmCredential(std::string username, std::string password);
  std::string_view type() const override { return "ntlm"; }
  Status apply(http::Request& request) override;
  Result<AuthReport> authenticate() override;

 private:
  std::string username_;
  std::string password_;
};

}  // namespace extdata::auth
