#include "sources/sharepoint/site_address.h"

#include <algorithm>
#include <vector>

namespace extdata::sources::sharepoint {

namespace {

constexpr const char* kExample = "https://contoso.sharepoint.com/sites/Sales";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error bad_site(std::string key, std::string message, std::string hint) {
  Error e("sharepoint.bad_site_url", std::move(message), std::move(hint));
  e.with("key", std::move(key));
  return e;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
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
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
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
  std::string_view text = url;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return bad_site("site", "site '" + std::string(text) + "' is not a URL",
                    std::string("paste the site's address from the browser, e.g. ") + kExample +
                        " (or give host and path instead of site)");
  }
  const std::string scheme = lower(text.substr(0, scheme_end));
  if (scheme != "https" && !(scheme == "http" && any_host)) {
    return bad_site("site", "site '" + std::string(text) + "' does not start with https://",
                    std::string("SharePoint Online sites are served over https, e.g. ") + kExample);
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return bad_site("site", "site URL must not contain a user name or password",
                    std::string("use the plain site address, e.g. ") + kExample);
  }
  std::string host = lower(authority);
  if (!any_host) {
    if (host.find(':') != std::string::npos) {
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
  const size_t path_end = rest.find_first_of("?#");
  std::string_view raw_path = rest.substr(0, path_end);
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
