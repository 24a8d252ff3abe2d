#pragma once
// Microsoft Graph error answers in the user's words, for the SharePoint source
// (reference: microsoft-identity-and-graph.md §3). The Graph code, message, request-id
// and HTTP status are always kept in Error::details.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"
#include "http/http_client.h"

namespace extdata::sources::sharepoint {

enum class GraphStep { site, list, lists, columns, items };

struct GraphErrorContext {
  GraphStep step = GraphStep::items;
  std::string site;  // what the user configured: the site URL
  std::string list;  // the list title or id
  bool filtered = false;
  // Claims of the token that was refused (auth::token_claims), to tell "consent missing"
  // from "wrong permission"; null when unknown.
  nlohmann::json claims;
};

// Error codes: sharepoint.consent_missing, sharepoint.permission_missing,
// sharepoint.site_not_found, sharepoint.list_not_found, sharepoint.filter_not_indexed,
// sharepoint.bad_request, sharepoint.unauthorized, sharepoint.throttled,
// sharepoint.upstream. Details: http_status, graph_code, graph_message, request_id,
// client_request_id, date, retry_after (each when present).
Error translate_graph_error(const http::Response& response, const GraphErrorContext& context);

}  // namespace extdata::sources::sharepoint
