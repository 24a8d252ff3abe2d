#pragma once
// Source kinds by `type`. make_source (source.h) dispatches here; each kind exposes one
// factory in its own folder: rest/rest_source.h, sharepoint/sharepoint_source.h.
#include <string>
#include <vector>

namespace extdata::sources {

// The types make_source knows.
std::vector<std::string> source_kinds();

}  // namespace extdata::sources
