#include "targets/jira/jira_client.h"

#include <nlohmann/json.hpp>

#include "core/url.h"

namespace extdata::targets::jira {

using nlohmann::json;

namespace {

constexpr int kPageSize = 100;  // Jira's default and maximum maxResults for these lists

// Jira's error body: {"errorMessages":[..],"errors":{"key":"message"}} joined into one line.
std::string jira_messages(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  std::string out;
  auto add = [&](const std::string& m) { out += (out.empty() ? "" : "; ") + m; };
  if (j.is_object()) {
    for (const auto& m : j.value("errorMessages", json::array()))
      if (m.is_string()) add(m.get<std::string>());
    const json errors = j.value("errors", json::object());
    for (const auto& [k, v] : errors.items())
      if (v.is_string()) add(k + ": " + v.get<std::string>());
  }
  if (out.empty()) out = body.substr(0, 200);
  return out;
}

std::string id_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return {};
}

}  // namespace

Error jira_error(const http::Response& response, std::string_view what) {
  const std::string said = jira_messages(response.body);
  const std::string status = std::to_string(response.status);
  auto error = [&](const char* code, const std::string& hint) {
    return Error(code, "Jira answered " + status + " " + std::string(what) + ": " + said, hint)
        .with("status", status);
  };
  switch (response.status) {
    case 401:
      return error("target.jira_unauthorized",
                   "The credentials are wrong or expired: for Jira Cloud use `auth: {type: basic}` "
                   "with the account's e-mail as username and an API token (id.atlassian.com › "
                   "Security › API tokens) as password; for Data Center a personal access token "
                   "with `type: bearer`.");
    case 403:
      return error("target.jira_forbidden",
                   "The account is not allowed to manage the field's options: it needs the "
                   "Administer Jira global permission (be a Jira admin).");
    case 404:
      return error("target.jira_not_found",
                   "Check field_id (customfield_NNNNN) and context_id; see the field's contexts "
                   "listed in the message.");
    case 429: {
      Error e = error("target.jira_throttled",
                      "Jira is rate limiting the account; the sync resumes on the next run (or "
                      "retry after the Retry-After seconds).");
      if (auto ra = response.header("Retry-After")) e.with("retry_after", *ra);
      return e;
    }
    case 400:
      return error("target.jira_rejected", "Jira refused the request as sent; see its message.");
    default:
      return error("target.jira_failed", "Try again; if it persists, look at Jira's status.");
  }
}

Client::Client(http::HttpClient& http, std::string base, std::string field_id)
    : http_(http), base_(std::move(base)), field_id_(std::move(field_id)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Result<http::Response> Client::send(const std::string& method, const std::string& path,
                                    const std::string& body, std::string_view what) {
  http::Request request{.method = method, .url = base_ + path, .body = body};
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  ++requests_;
  if (method != "GET") ++writes_;
  EXTDATA_ASSIGN_OR_RETURN(http::Response response, http_.send(request));
  if (response.status >= 400) return jira_error(response, what);
  return response;
}

template <typename Item, typename Parse>
Result<std::vector<Item>> Client::pages(const std::string& path, std::string_view what,
                                        Parse parse) {
  std::vector<Item> out;
  for (size_t start = 0;;) {
    const std::string page =
        path + "?startAt=" + std::to_string(start) + "&maxResults=" + std::to_string(kPageSize);
    EXTDATA_ASSIGN_OR_RETURN(http::Response r, send("GET", page, "", what));
    const json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("values") || !j["values"].is_array())
      return Error("target.jira_failed",
                   "Jira answered " + std::string(what) +
                       " with something else than a page of "
                       "values",
                   "Check that `jira` is the Jira base URL (https://SITE.atlassian.net).");
    for (const auto& v : j["values"]) out.push_back(parse(v));
    const size_t got = j["values"].size();
    start += got;
    const bool last =
        j.value("isLast", false) || got == 0 ||
        (j.contains("total") && j["total"].is_number() && start >= j["total"].get<size_t>());
    if (last) return out;
  }
}

Result<std::vector<Context>> Client::contexts() {
  return pages<Context>("/rest/api/3/field/" + percent_encode(field_id_) + "/context",
                        "listing the contexts of field " + field_id_, [](const json& v) {
                          return Context{id_text(v.value("id", json())), v.value("name", ""),
                                         v.value("isGlobalContext", false)};
                        });
}

Result<std::vector<Option>> Client::options(const std::string& context) {
  return pages<Option>("/rest/api/3/field/" + percent_encode(field_id_) + "/context/" +
                           percent_encode(context) + "/option",
                       "reading the options of context " + context, [](const json& v) {
                         return Option{id_text(v.value("id", json())), v.value("value", ""),
                                       v.value("disabled", false)};
                       });
}

Result<std::vector<Option>> Client::create(const std::string& context,
                                           const std::vector<Option>& batch) {
  json options = json::array();
  for (const auto& o : batch) options.push_back({{"value", o.value}, {"disabled", o.disabled}});
  EXTDATA_ASSIGN_OR_RETURN(
      http::Response r,
      send("POST",
           "/rest/api/3/field/" + percent_encode(field_id_) + "/context/" +
               percent_encode(context) + "/option",
           json{{"options", options}}.dump(), "creating options in context " + context));
  const json j = json::parse(r.body, nullptr, false);
  std::vector<Option> out;
  if (j.is_object() && j.contains("options") && j["options"].is_array())
    for (const auto& v : j["options"])
      out.push_back(
          {id_text(v.value("id", json())), v.value("value", ""), v.value("disabled", false)});
  if (out.size() != batch.size())
    return Error("target.jira_failed",
                 "Jira created " + std::to_string(out.size()) + " of " +
                     std::to_string(batch.size()) + " options without saying why",
                 "Run the sync again: options already created are matched by their value.");
  return out;
}

Status Client::update(const std::string& context, const std::vector<Option>& batch) {
  json options = json::array();
  for (const auto& o : batch)
    options.push_back({{"id", o.id}, {"value", o.value}, {"disabled", o.disabled}});
  EXTDATA_ASSIGN_OR_RETURN(
      http::Response r,
      send("PUT",
           "/rest/api/3/field/" + percent_encode(field_id_) + "/context/" +
               percent_encode(context) + "/option",
           json{{"options", options}}.dump(), "updating options in context " + context));
  (void)r;
  return ok_status();
}

Status Client::remove(const std::string& context, const std::string& option_id) {
  EXTDATA_ASSIGN_OR_RETURN(
      http::Response r, send("DELETE",
                             "/rest/api/3/field/" + percent_encode(field_id_) + "/context/" +
                                 percent_encode(context) + "/option/" + percent_encode(option_id),
                             "", "deleting option " + option_id));
  (void)r;
  return ok_status();
}

}  // namespace extdata::targets::jira
