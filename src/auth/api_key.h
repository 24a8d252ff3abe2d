#pragma once
// type: api_key — a key sent as a header (in: header, the default) or as a query
// parameter (in: query) with every request.
#include "auth/credential.h"

namespace extdata::auth {

class ApiKeyCredential final : public Credential {
 public:
  enum class Placement { header, query };
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  ApiKeyCredential(std::string name, std::string value, Placement in);
  std::string_view type() const override { return "api_key"; }
  Status apply(http::Request& request) override;
  Result<AuthReport> authenticate() override;

 private:
  std::string name_;
  std::string value_;
  Placement in_;
};

// Appends name=value (URL-encoded) to the query of `url`, before any #fragment.
std::string append_query_parameter(const std::string& url, std::string_view name,
                                   std::string_view value);

}  // namespace extdata::auth
