#pragma once
// What the API knows about SharePoint beyond a source like any other: the site explorer
// behind the wizard's list and column pickers, and the placeholders that let the wizard
// authenticate and list lists before the site and the list are chosen.
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"
#include "sources/source.h"

namespace extdata::api::sharepoint {

// The draft steps before "Save" only need the credential (and the site): a sharepoint-list
// spec missing site or list gets placeholders for them. Other specs are left alone.
// `step` is the draft endpoint: "authenticate", "sharepoint/lists", ...
void fill_draft_placeholders(nlohmann::json& spec, std::string_view step);

// {"lists": [...]} of the source's site; errors of the source (sharepoint.not_sharepoint ...).
Result<nlohmann::json> lists(sources::Source& source);
// {"columns": [...]} of the source's list.
Result<nlohmann::json> columns(sources::Source& source);

}  // namespace extdata::api::sharepoint
