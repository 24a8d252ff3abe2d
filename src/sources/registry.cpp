#include "sources/registry.h"

#include "config/config.h"

// The SharePoint kind lands from its own branch; until its header exists the type is
// reported as not built rather than breaking the link.
#if __has_include("sources/sharepoint/sharepoint_source.h")
#define EXTDATA_HAVE_SHAREPOINT_SOURCE 1
#endif

namespace extdata::sources {

std::vector<std::string> source_kinds() {
  std::vector<std::string> kinds = {"rest"};
#ifdef EXTDATA_HAVE_SHAREPOINT_SOURCE
  kinds.push_back("sharepoint-list");
#endif
  return kinds;
}

Result<std::shared_ptr<Source>> make_source(const config::SourceConfig& config,
                                            const SourceDeps& deps) {
  if (config.type == "rest") return make_rest_source(config, deps);
#ifdef EXTDATA_HAVE_SHAREPOINT_SOURCE
  if (config.type == "sharepoint-list") return make_sharepoint_source(config, deps);
#endif
  std::string known;
  for (const auto& k : source_kinds()) known += (known.empty() ? "" : ", ") + k;
  Error e("source.unknown_type",
          "source '" + config.name + "': unknown source type '" + config.type + "'",
          "known types: " + known);
  if (auto close = config::closest_match(config.type, source_kinds()))
    e.hint = "did you mean '" + *close + "'? " + e.hint;
  e.with("key", "type");
  return e;
}

}  // namespace extdata::sources
