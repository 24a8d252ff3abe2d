#pragma once
// Where a SharePoint site lives, from the URL a user copies out of the browser
// ("https://contoso.sharepoint.com/sites/Sales/Lists/Customers/AllItems.aspx") or from
// `host` + `path` as in the manual two-step flow, and how Graph addresses it.
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata::sources::sharepoint {

struct SiteAddress {
  std::string host;  // contoso.sharepoint.com
  std::string path;  // server-relative, decoded, no trailing slash; "" for the root site
  // A list named by the pasted URL (".../Lists/Customers/..."), when there was one.
  std::optional<std::string> list_in_url;

  // The Graph path that resolves the site: "/sites/{host}:/{path}" with each path segment
  // percent-encoded, or "/sites/{host}" for the root site.
  std::string graph_path() const;
  std::string web_url() const;  // https://host/path
};

// Parses `site`. `any_host` allows hosts that do not look like SharePoint Online (graph
// overridden, e.g. for graphsim or an on-premises gateway). Errors: sharepoint.bad_site_url
// with details["key"] = "site".
Result<SiteAddress> parse_site_url(std::string_view url, bool any_host);

// The manual form: host "contoso.sharepoint.com", path "/sites/Sales".
Result<SiteAddress> site_from_host_path(std::string_view host, std::string_view path,
                                        bool any_host);

// True for SharePoint Online hosts in every cloud (*.sharepoint.com, .us, .cn, .de, -mil.us).
bool is_sharepoint_online_host(std::string_view host);

// RFC 3986 percent-encoding of one path segment (unreserved characters kept).
std::string encode_path_segment(std::string_view segment);

}  // namespace extdata::sources::sharepoint
