#include "auth/api_key.h"

#include "auth/config_fields.h"
#include "core/redact.h"
#include "http/curl_client.h"

namespace extdata::auth {

std::string append_query_parameter(const std::string& url, std::string_view name,
                                   std::string_view value) {
  const size_t hash = url.find('#');
  std::string base = url.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
  const size_t q = base.find('?');
  if (q == std::string::npos)
    base += '?';
  else if (q + 1 != base.size() && base.back() != '&')
    base += '&';
  base += http::url_encode(name) + "=" + http::url_encode(value);
  return base + fragment;
}

ApiKeyCredential::ApiKeyCredential(std::string name, std::string value, Placement in)
    : name_(std::move(name)), value_(std::move(value)), in_(in) {
  register_secret(value_);
  register_secret(http::url_encode(value_));
}

Result<std::shared_ptr<Credential>> ApiKeyCredential::create(const nlohmann::json& auth,
                                                             const CredentialDeps&) {
  EXTDATA_ASSIGN_OR_RETURN(std::string name, required_string(auth, "name"));
  EXTDATA_ASSIGN_OR_RETURN(std::string value, required_string(auth, "value"));
  EXTDATA_ASSIGN_OR_RETURN(std::string in, optional_string(auth, "in"));
  Placement placement = Placement::header;
  if (in == "query") {
    placement = Placement::query;
  } else if (!in.empty() && in != "header") {
    return config_error("config.bad_value", "in", "in must be header or query, not '" + in + "'");
  }
  if (placement == Placement::header) {
    EXTDATA_TRY(check_header_text(name, "name", true));
    EXTDATA_TRY(check_header_text(value, "value", false));
  }
  return std::shared_ptr<Credential>(
      std::make_shared<ApiKeyCredential>(std::move(name), std::move(value), placement));
}

Status ApiKeyCredential::apply(http::Request& request) {
  if (in_ == Placement::header)
    http::set_header(request.headers, name_, value_);
  else
    request.url = append_query_parameter(request.url, name_, value_);
  return ok_status();
}

Result<AuthReport> ApiKeyCredential::authenticate() {
  AuthReport report;
  report.method = "api_key";
  report.token_type = "ApiKey";
  report.token = value_;
  report.claims = {{"name", name_}, {"in", in_ == Placement::header ? "header" : "query"}};
  return report;
}

namespace methods {
const AuthMethod& api_key() {
  static const config::Schema table{
      .name = "api_key",
      .settings = {
          config::settings::string("name", "Header or query parameter name, e.g. X-Api-Key", true),
          config::settings::secret("value", "The key", true),
          config::settings::choice("in", {"header", "query"}, "header", "Where the key is sent")}};
  static const AuthMethod method{
      {"api_key", "API key", "An API key in a header or query parameter.", &table},
      &ApiKeyCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
