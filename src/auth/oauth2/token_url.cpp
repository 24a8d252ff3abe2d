#include "auth/oauth2/token_url.h"

#include "auth/config_fields.h"
#include "core/strings.h"
#include "core/url.h"
#include "core/url_template.h"

namespace extdata::auth {

namespace {

bool is_loopback(const Url& url) {
  return url.host() == "127.0.0.1" || url.host() == "localhost" || url.host() == "[::1]";
}

bool is_microsoft_host(const std::string& host) {
  for (std::string_view h :
       {"login.microsoftonline.com", "login.microsoftonline.us", "login.microsoftonline.de",
        "login.chinacloudapi.cn", "login.partner.microsoftonline.cn", "login.windows.net",
        "login.microsoft.com", "login.live.com"})
    if (host == h) return true;
  return false;
}

bool is_valid_tenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 253) return false;
  for (unsigned char c : tenant)
    if (!std::isalnum(c) && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

bool is_microsoft_token_url(std::string_view token_url) {
  auto parsed = Url::parse(token_url);
  if (!parsed.ok()) return false;
  return is_microsoft_host(parsed->host()) || parsed->path().ends_with("/oauth2/v2.0/token");
}

Result<std::string> resolve_token_url(std::string_view token_url, std::string_view tenant) {
  return resolve_endpoint_url(token_url, tenant, "token_url", true);
}

Result<std::string> resolve_endpoint_url(std::string_view endpoint, std::string_view tenant,
                                         const std::string& key, bool app_only) {
  std::string url(endpoint);
  if (brace_in_origin(url))
    return config_error("auth.bad_token_url", key,
                        key + ": variables may not stand in the scheme, host or port",
                        "write the token endpoint's origin literally; {tenant} belongs in the "
                        "path: https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
  const size_t placeholder = url.find("{tenant}");
  if (placeholder != std::string::npos) {
    if (tenant.empty())
      return config_error("config.missing_key", "tenant",
                          key + " contains {tenant} but tenant is not set",
                          "set tenant to the Directory (tenant) ID or a verified domain");
    if (!is_valid_tenant(tenant))
      return config_error(
          "auth.invalid_tenant", "tenant",
          "tenant '" + std::string(tenant) + "' is neither a GUID nor a domain name",
          "use the Directory (tenant) ID (a GUID) or a domain such as "
          "contoso.onmicrosoft.com");
    url.replace(placeholder, 8, tenant);
  }
  auto parsed = Url::parse(url);
  if (!parsed.ok())
    return config_error("auth.bad_token_url", key, key + " " + parsed.error().message,
                        "e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
  if (parsed->scheme() != "https" && !(parsed->scheme() == "http" && is_loopback(*parsed)))
    return config_error(
        "auth.insecure_token_url", key,
        key + " must use https (got " + parsed->scheme() + "://" + parsed->host() + ")",
        "secrets and tokens are sent there; plain http is allowed only for "
        "127.0.0.1 and localhost");
  if (app_only && is_microsoft_token_url(url)) {
    // The first path segment of a Microsoft endpoint is the tenant.
    const std::string& path = parsed->path();
    const size_t start = path.find_first_not_of('/');
    const std::string segment =
        start == std::string::npos ? "" : lower(path.substr(start, path.find('/', start) - start));
    if (segment == "common" || segment == "organizations" || segment == "consumers")
      return config_error("auth.tenant_required", placeholder != std::string::npos ? "tenant" : key,
                          "client credentials cannot be used with /" + segment,
                          "put your Directory (tenant) ID or domain in the token URL instead");
  }
  return url;
}

}  // namespace extdata::auth
