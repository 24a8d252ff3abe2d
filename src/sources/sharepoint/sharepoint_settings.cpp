#include "sources/sharepoint/sharepoint_settings.h"

#include "auth/oauth2_settings.h"

namespace extdata::sources::sharepoint {

namespace s = config::settings;
using config::Setting;

namespace {

// The oauth2 keys a SharePoint source takes as they are, after its own `tenant` (which is
// required here: the token URL is built from the authority and the tenant).
std::vector<Setting> app_registration() {
  std::vector<Setting> out = auth::oauth2_settings_named({"tenant", "client_id"});
  out[0].required = true;
  out[0].description = "Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com";
  out[1].description = "Application (client) ID of the app registration";
  for (auto& st : auth::oauth2_settings_named(
           {"client_secret", "client_certificate", "client_secret_expires", "expiry_warning_days"}))
    out.push_back(std::move(st));
  return out;
}

Setting with_default(Setting st, const char* value) {
  st.default_value = value;
  return st;
}

config::Check check(const nlohmann::json& j) {
  if (auto problem = auth::check_client_secret_rule(j)) return problem;
  if (!j.contains("site") && !(j.contains("host") && j.contains("path")))
    return std::make_pair("site", "needs site (the site URL) or host and path");
  if (j.contains("site") && (j.contains("host") || j.contains("path")))
    return std::make_pair("host", "give site, or host and path, not both");
  return std::nullopt;
}

}  // namespace

const config::Schema& sharepoint_settings() {
  static const config::Schema table = [] {
    config::Schema t{.name = "sharepoint-list", .settings = app_registration(), .check = check};
    for (Setting st : {
             s::url("site",
                    "Site URL as copied from the browser, e.g. "
                    "https://contoso.sharepoint.com/sites/Sales"),
             s::string("host", "Site host name (instead of site), e.g. contoso.sharepoint.com"),
             s::string("path", "Server-relative site path (with host), e.g. /sites/Sales"),
             s::string("list", "List title or id", true),
             s::string_or_list("select", "Columns to fetch (internal names); all when absent"),
             s::string("filter", "OData filter on fields, e.g. fields/Country eq 'Germany'"),
             s::integer("page_size", "Items per page ($top)", 5000, 1, 5000),
             s::choice("sync", {"delta", "full"}, "delta",
                       "delta: refreshes read only the changes since the last sync (Graph's "
                       "delta query; a filter makes it full); full: every refresh reads every "
                       "item"),
             // The client secret goes to the authority, the token it buys to graph.
             s::binds_secrets(
                 with_default(
                     s::url("authority", "Identity platform host (national clouds, graphsim)"),
                     "https://login.microsoftonline.com"),
                 config::SecretBinding::value),
             s::binds_secrets(
                 with_default(s::url("graph", "Graph base URL (national clouds, graphsim)"),
                              "https://graph.microsoft.com/v1.0"),
                 config::SecretBinding::value),
         })
      t.settings.push_back(std::move(st));
    return t;
  }();
  return table;
}

}  // namespace extdata::sources::sharepoint
