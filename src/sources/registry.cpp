#include "sources/registry.h"

#include "config/config.h"

#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::sources {

std::vector<std::string> source_kinds() {
  return {"rest", "sharepoint-list"};
}

Result<std::shared_ptr<Source>> make_source(const config::SourceConfig& config,
                                            const SourceDeps& deps) {
  if (config.type == "rest") return make_rest_source(config, deps);
  if (config.type == "sharepoint-list") return sharepoint::make_sharepoint_source(config, deps);
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
