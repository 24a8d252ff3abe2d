#include "core/url_template.h"

#include <algorithm>
#include <string>

#include "core/strings.h"

namespace extdata {

std::optional<size_t> brace_in_origin(std::string_view text) {
  const size_t scheme_end = text.find("://");
  const size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t end = std::min(text.find_first_of("/?#", authority), text.size());
  const size_t brace = text.substr(0, end).find_first_of("{}");
  if (brace == std::string_view::npos) return std::nullopt;
  return brace;
}

bool has_dot_segment(std::string_view path) {
  while (!path.empty()) {
    const size_t slash = path.find_first_of("/?#");
    std::string segment = lower(path.substr(0, slash));
    for (size_t at; (at = segment.find("%2e")) != std::string::npos;) segment.replace(at, 3, ".");
    if (segment == "." || segment == "..") return true;
    if (slash == std::string_view::npos || path[slash] != '/') break;
    path.remove_prefix(slash + 1);
  }
  return false;
}

}  // namespace extdata
