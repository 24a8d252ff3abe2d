#pragma once
// type: none — public upstreams.
#include "auth/credential.h"

namespace extdata::auth {

class NoCredential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  std::string_view type() const override { return "none"; }
  Status apply(http::Request&) override { return ok_status(); }
  Result<AuthReport> authenticate() override;
};

}  // namespace extdata::auth
