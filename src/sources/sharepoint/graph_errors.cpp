#include "sources/sharepoint/graph_errors.h"

#include <algorithm>

#include "core/redact.h"
#include "core/strings.h"

namespace extdata::sources::sharepoint {

namespace {

bool contains(const std::string& haystack_lower, std::string_view needle) {
  return haystack_lower.find(needle) != std::string::npos;
}

struct GraphBody {
  std::string code, message, request_id, client_request_id, date;
};

GraphBody read_body(const http::Response& response) {
  GraphBody out;
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object()) {
    auto err = parsed.find("error");
    if (err != parsed.end() && err->is_object()) {
      out.code = err->value("code", "");
      out.message = err->value("message", "");
      for (const char* inner_key : {"innerError", "innererror"}) {
        auto inner = err->find(inner_key);
        if (inner == err->end() || !inner->is_object()) continue;
        out.request_id = inner->value("request-id", "");
        out.client_request_id = inner->value("client-request-id", "");
        out.date = inner->value("date", "");
      }
    }
  }
  if (out.request_id.empty()) out.request_id = response.header("request-id").value_or("");
  if (out.client_request_id.empty())
    out.client_request_id = response.header("client-request-id").value_or("");
  return out;
}

bool has_roles(const nlohmann::json& claims) {
  auto it = claims.is_object() ? claims.find("roles") : claims.end();
  return it != claims.end() && it->is_array() && !it->empty();
}

std::string roles_text(const nlohmann::json& claims) {
  std::string out;
  if (!has_roles(claims)) return out;
  for (const auto& r : claims["roles"]) {
    if (!r.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += r.get<std::string>();
  }
  return out;
}

}  // namespace

Error translate_graph_error(const http::Response& response, const GraphErrorContext& context) {
  const GraphBody body = read_body(response);
  const std::string code = lower(body.code);
  const std::string message = lower(body.message);
  const long status = response.status;
  Error e;

  if (status == 403 && (contains(message, "scp or roles") ||
                        (code == "accessdenied" && !context.claims.is_null() &&
                         !has_roles(context.claims) && !context.claims.contains("scp")))) {
    e = Error("sharepoint.consent_missing",
              "Microsoft Graph refused the request: the access token carries no application "
              "permissions, so admin consent has not been granted",
              "in Entra ID open App registrations → your app → API permissions, check that "
              "Microsoft Graph → Application permissions → Sites.Read.All is listed, and click "
              "'Grant admin consent for <tenant>' (a Global or Privileged Role Administrator "
              "must do this); then run `extdata auth` again");
  } else if (status == 403) {
    std::string roles = roles_text(context.claims);
    e = Error("sharepoint.permission_missing",
              "Microsoft Graph refused access to the site: the app lacks Sites.Read.All" +
                  (roles.empty() ? std::string() : " (its token grants only " + roles + ")"),
              "add the Microsoft Graph application permission Sites.Read.All (or Sites.Selected "
              "with read access granted on this site) to the app registration and grant admin "
              "consent; delegated permissions do not apply to the client-credentials flow");
  } else if (status == 404 && context.step == GraphStep::site) {
    e = Error("sharepoint.site_not_found", "SharePoint site '" + context.site + "' was not found",
              "open the site in a browser and copy its address (e.g. "
              "https://contoso.sharepoint.com/sites/Sales); check the host name and the "
              "/sites/ or /teams/ part");
  } else if (status == 404 &&
             (context.step == GraphStep::list || context.step == GraphStep::items ||
              context.step == GraphStep::columns)) {
    e = Error("sharepoint.list_not_found",
              "list '" + context.list + "' was not found on site '" + context.site + "'",
              "run `extdata sharepoint lists SOURCE` to see the site's lists and set list to "
              "a title or id from there");
  } else if (status == 400 && context.filtered &&
             (contains(message, "not indexed") || contains(message, "threshold") ||
              contains(message, "honornonindexed"))) {
    e = Error("sharepoint.filter_not_indexed",
              "the filter uses a column that is not indexed and SharePoint refused it"
              " (extdata already sent 'Prefer: HonorNonIndexedQueriesWarningMayFailRandomly')",
              "index the column in the list settings (List settings → Indexed columns → Create "
              "a new index), or remove filter and filter the records in extdata instead; lists "
              "above 5,000 items always need an index for filtered queries");
  } else if (status == 400) {
    e = Error("sharepoint.bad_request",
              "Microsoft Graph rejected the request: " +
                  (body.message.empty() ? std::string("400 Bad Request") : body.message),
              context.filtered ? "check filter (e.g. fields/Country eq 'Germany') and select: "
                                 "column names are internal names, see `extdata sharepoint "
                                 "columns SOURCE`"
                               : "check select: column names are internal names, see "
                                 "`extdata sharepoint columns SOURCE`");
  } else if (status == 401) {
    e = Error("sharepoint.unauthorized",
              "Microsoft Graph refused the access token even after a fresh one was fetched" +
                  (body.message.empty() ? std::string() : ": " + body.message),
              "check that authority and tenant match the cloud of graph (national clouds have "
              "their own), and that the machine's clock is right");
  } else if (status == 429 || status == 503) {
    e = Error("sharepoint.throttled",
              "Microsoft Graph kept throttling the requests (HTTP " + std::to_string(status) +
                  ") after " + std::to_string(response.attempts) + " attempts",
              "try again later; lower page_size or the refresh frequency, or ask the tenant "
              "administrator about SharePoint throttling limits");
  } else {
    e = Error("sharepoint.upstream",
              "Microsoft Graph answered HTTP " + std::to_string(status) +
                  (body.message.empty() ? std::string() : ": " + body.message),
              status >= 500 ? "a Microsoft-side failure; try again later" : "");
  }

  e.with("http_status", std::to_string(status));
  if (!body.code.empty()) e.with("graph_code", body.code);
  if (!body.message.empty()) e.with("graph_message", redact(body.message));
  if (!body.request_id.empty()) e.with("request_id", body.request_id);
  if (!body.client_request_id.empty()) e.with("client_request_id", body.client_request_id);
  if (!body.date.empty()) e.with("date", body.date);
  if (auto ra = response.header("Retry-After")) e.with("retry_after", *ra);
  if (body.code.empty() && !response.body.empty())
    e.with("body", redact(response.body.substr(0, 300)));
  return e;
}

}  // namespace extdata::sources::sharepoint
