#include "api/sharepoint_routes.h"

#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::api::sharepoint {

void fill_draft_placeholders(nlohmann::json& spec, std::string_view step) {
  if (spec.value("type", "") != "sharepoint-list") return;
  if (step == "authenticate" && !spec.contains("site") && !spec.contains("host"))
    spec["site"] = "https://contoso.sharepoint.com/";
  if ((step == "authenticate" || step == "sharepoint/lists") && !spec.contains("list"))
    spec["list"] = "-";
}

Result<nlohmann::json> lists(sources::Source& source) {
  EXTDATA_ASSIGN_OR_RETURN(auto found, sources::sharepoint::list_lists(source));
  return nlohmann::json{{"lists", sources::sharepoint::to_json(found)}};
}

Result<nlohmann::json> columns(sources::Source& source) {
  EXTDATA_ASSIGN_OR_RETURN(auto found, sources::sharepoint::list_columns(source));
  return nlohmann::json{{"columns", sources::sharepoint::to_json(found)}};
}

}  // namespace extdata::api::sharepoint
