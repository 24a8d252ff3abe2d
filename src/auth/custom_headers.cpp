#include "auth/custom_headers.h"

#include <cstdlib>
#include <ctime>

#include "auth/config_fields.h"
#include "auth/oauth2/client_credentials.h"
#include "core/redact.h"
#include "core/strings.h"
#include "core/time.h"

namespace extdata::auth {

Result<HeaderTemplate> HeaderTemplate::compile(std::string_view text, const std::string& key,
                                               const std::string& source_name) {
  HeaderTemplate out;
  std::string literal;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      literal += text.substr(pos);
      break;
    }
    literal += text.substr(pos, open - pos);
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos)
      return config_error("auth.bad_template", key,
                          "unclosed '{{' at position " + std::to_string(open + 1),
                          "close the placeholder with '}}'");
    const std::string name(trim(text.substr(open + 2, close - open - 2)));
    if (name == "env.EXTDATA_MASTER_KEY") {
      return config_error("auth.bad_template", key,
                          "{{env.EXTDATA_MASTER_KEY}} is the store's master key",
                          "never send it upstream; reference the credential's own variable");
    } else if (name.rfind("env.", 0) == 0 && name.size() > 4) {
      const char* value = std::getenv(name.substr(4).c_str());
      if (value == nullptr)
        return config_error("auth.missing_env", key,
                            "the environment variable " + name.substr(4) + " is not set",
                            "set it in the service's environment, or write the value directly");
      register_secret(value);
      EXTDATA_TRY(check_header_text(value, key, false));
      literal += value;
    } else if (name == "source") {
      literal += source_name;
    } else if (name == "uuid" || name == "now" || name == "unix_time") {
      if (!literal.empty()) out.parts_.emplace_back(std::move(literal));
      literal.clear();
      out.parts_.emplace_back(name == "uuid"  ? Dynamic::uuid
                              : name == "now" ? Dynamic::now
                                              : Dynamic::unix_time);
      ++out.dynamic_;
    } else {
      return config_error(
          "auth.bad_template", key,
          "unknown placeholder {{" + name + "}} at position " + std::to_string(open + 1),
          "use {{env.NAME}}, {{source}}, {{uuid}}, {{now}} or {{unix_time}}");
    }
    pos = close + 2;
  }
  if (!literal.empty()) out.parts_.emplace_back(std::move(literal));
  return out;
}

std::string HeaderTemplate::render(Clock::time_point now) const {
  std::string out;
  for (const auto& part : parts_) {
    if (const auto* text = std::get_if<std::string>(&part)) {
      out += *text;
      continue;
    }
    switch (std::get<Dynamic>(part)) {
      case Dynamic::uuid:
        out += random_uuid();
        break;
      case Dynamic::unix_time:
        out += std::to_string(unix_seconds(now));
        break;
      case Dynamic::now:
        out += format_rfc3339(now);
        break;
    }
  }
  return out;
}

CustomHeadersCredential::CustomHeadersCredential(
    std::vector<std::pair<std::string, HeaderTemplate>> headers, Clock& clock)
    : headers_(std::move(headers)), clock_(clock) {}

Result<std::shared_ptr<Credential>> CustomHeadersCredential::create(const nlohmann::json& auth,
                                                                    const CredentialDeps& deps) {
  auto it = auth.find("headers");
  if (it == auth.end() || !it->is_object() || it->empty())
    return config_error("config.missing_key", "headers",
                        "headers must map at least one header name to a value",
                        "e.g. headers: {X-Api-Key: \"{{env.PARTNER_KEY}}\"}");
  std::vector<std::pair<std::string, HeaderTemplate>> headers;
  for (const auto& [name, value] : it->items()) {
    const std::string key = "headers." + name;
    EXTDATA_TRY(check_header_text(name, key, true));
    if (!value.is_string())
      return config_error("config.wrong_type", key, "a header value must be a string");
    const std::string text = value.get<std::string>();
    EXTDATA_TRY(check_header_text(text, key, false));
    EXTDATA_ASSIGN_OR_RETURN(HeaderTemplate compiled,
                             HeaderTemplate::compile(text, key, deps.source_name));
    if (is_sensitive_header(name) && compiled.is_static())
      register_secret(compiled.render(deps.clock.now()));
    headers.emplace_back(name, std::move(compiled));
  }
  return std::shared_ptr<Credential>(
      std::make_shared<CustomHeadersCredential>(std::move(headers), deps.clock));
}

Status CustomHeadersCredential::apply(http::Request& request) {
  const auto now = clock_.now();
  for (const auto& [name, value] : headers_)
    http::set_header(request.headers, name, value.render(now));
  return ok_status();
}

Result<AuthReport> CustomHeadersCredential::authenticate() {
  AuthReport report;
  report.method = "headers";
  report.token_type = "headers";
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [name, value] : headers_) names.push_back(name);
  report.claims = {{"headers", names}};
  return report;
}

namespace methods {
const AuthMethod& headers() {
  static const config::Schema table{
      .name = "headers", .settings = {[] {
                           config::Setting s =
                               config::settings::map("headers", "Header name → value template");
                           s.required = true;
                           s.secret_values = true;
                           return s;
                         }()}};
  static const AuthMethod method{
      {"headers", "Custom headers",
       "Headers sent with every request; their values are treated as secrets.", &table},
      &CustomHeadersCredential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
