#include "sources/sharepoint/site_address.h"

#include <vector>

#include "core/strings.h"
#include "core/url.h"

namespace extdata::sources::sharepoint {

namespace {

constexpr const char* kExample = "https://contoso.sharepoint.com/sites/Sales";

Error bad_site(std::string key, std::string message, std::string hint) {
  Error e("sharepoint.bad_site_url", std::move(message), std::move(hint));
  e.with("key", std::move(key));
  return e;
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' ||
          c == '[' || c == ']'))
      return false;
  }
  return host.front() != '.' && host.back() != '.';
}

// Keeps the site part of a pasted URL: everything before the first segment that belongs to
// a list, library, page or settings screen.
SiteAddress site_from_segments(std::string host, const std::vector<std::string>& segments) {
  SiteAddress site;
  site.host = std::move(host);
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    const std::string l = lower(seg);
    if (l == "lists") {
      if (i + 1 < segments.size()) site.list_in_url = segments[i + 1];
      break;
    }
    if (l == "_layouts" || l == "sitepages" || l == "forms" || l == "shared documents" ||
        l == "_api" || l == "_vti_bin" || l.ends_with(".aspx")) {
      break;
    }
    site.path += "/" + seg;
  }
  return site;
}

}  // namespace

bool is_sharepoint_online_host(std::string_view host) {
  const std::string h = lower(host);
  for (std::string_view suffix : {".sharepoint.com", ".sharepoint.us", ".sharepoint-mil.us",
                                  ".sharepoint.cn", ".sharepoint.de"}) {
    if (h.size() > suffix.size() && h.ends_with(suffix)) return true;
  }
  return false;
}

std::string encode_path_segment(std::string_view segment) {
  return percent_encode(segment);
}

std::string SiteAddress::graph_path() const {
  if (path.empty()) return "/sites/" + host;
  std::string out = "/sites/" + host + ":";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out += "/" + encode_path_segment(std::string_view(path).substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string SiteAddress::web_url() const {
  return "https://" + host + path;
}

Result<SiteAddress> parse_site_url(std::string_view url, bool any_host) {
  const std::string_view text = trim(url);
  // Dot segments are kept so that they can be refused below rather than silently resolved.
  auto parsed = Url::parse(text, {.keep_dot_segments = true, .allow_spaces = true});
  if (!parsed.ok() || text.find("://") == std::string_view::npos) {
    return bad_site("site", "site '" + std::string(text) + "' is not a URL",
                    std::string("paste the site's address from the browser, e.g. ") + kExample +
                        " (or give host and path instead of site)");
  }
  const std::string& scheme = parsed->scheme();
  if (scheme != "https" && !(scheme == "http" && any_host)) {
    return bad_site("site", "site '" + std::string(text) + "' does not start with https://",
                    std::string("SharePoint Online sites are served over https, e.g. ") + kExample);
  }
  if (parsed->has_userinfo()) {
    return bad_site("site", "site URL must not contain a user name or password",
                    std::string("use the plain site address, e.g. ") + kExample);
  }
  std::string host = parsed->authority();
  if (!any_host) {
    if (parsed->has_explicit_port()) {
      return bad_site("site", "site '" + std::string(text) + "' has a port number",
                      std::string("SharePoint Online URLs have no port, e.g. ") + kExample);
    }
    if (!is_sharepoint_online_host(host)) {
      std::string hint =
          std::string("paste the SharePoint site address from the browser, e.g. ") + kExample;
      if (host.find("graph.microsoft") != std::string::npos)
        hint = "this is a Microsoft Graph URL; set site to the SharePoint site address (e.g. " +
               std::string(kExample) + ") and extdata resolves the site id itself";
      else if (host.ends_with("microsoftonline.com") || host.ends_with("office.com") ||
               host.ends_with("microsoft365.com"))
        hint =
            "this is not the site itself: open the SharePoint site and copy its address, "
            "e.g. " +
            std::string(kExample);
      else
        hint += "; for an on-premises server or a simulator, set graph to its Graph endpoint";
      return bad_site("site", "'" + host + "' is not a SharePoint Online host", hint);
    }
  }
  if (!valid_host_name(host)) {
    return bad_site("site", "site '" + std::string(text) + "' has no valid host name",
                    std::string("e.g. ") + kExample);
  }
  const std::string_view raw_path = parsed->path();
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= raw_path.size()) {
    size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    if (end > start) {
      std::string seg = percent_decode(raw_path.substr(start, end - start));
      if (seg == "." || seg == "..")
        return bad_site("site", "site path must not contain '.' or '..' segments",
                        std::string("e.g. ") + kExample);
      segments.push_back(std::move(seg));
    }
    start = end + 1;
  }
  return site_from_segments(std::move(host), segments);
}

Result<SiteAddress> site_from_host_path(std::string_view host_in, std::string_view path,
                                        bool any_host) {
  std::string host = lower(host_in);
  if (host.find("://") != std::string::npos || host.find('/') != std::string::npos) {
    return bad_site("host", "host '" + std::string(host_in) + "' must be a host name only",
                    "e.g. host: contoso.sharepoint.com and path: /sites/Sales (or set site to "
                    "the full URL instead)");
  }
  if (!valid_host_name(host) || (!any_host && host.find(':') != std::string::npos)) {
    return bad_site("host", "host '" + std::string(host_in) + "' is not a valid host name",
                    "e.g. contoso.sharepoint.com");
  }
  if (!any_host && !is_sharepoint_online_host(host)) {
    return bad_site("host", "'" + host + "' is not a SharePoint Online host",
                    "e.g. contoso.sharepoint.com; for an on-premises server or a simulator, set "
                    "graph to its Graph endpoint");
  }
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) {
      std::string seg(path.substr(start, end - start));
      if (seg.find_first_of("?#:") != std::string::npos || seg == "." || seg == "..")
        return bad_site("path", "path '" + std::string(path) + "' is not a server-relative path",
                        "e.g. /sites/Sales");
      segments.push_back(std::move(seg));
    }
    start = end + 1;
  }
  return site_from_segments(std::move(host), segments);
}

}  // namespace extdata::sources::sharepoint
