#pragma once
// Source kinds by `type`. make_source (source.h) dispatches here; each kind exposes one
// factory, declared below and defined in its own folder.
#include <memory>
#include <string>
#include <vector>

#include "sources/source.h"

namespace extdata::sources {

// src/sources/rest/
Result<std::shared_ptr<Source>> make_rest_source(const config::SourceConfig& config,
                                                 const SourceDeps& deps);
// src/sources/sharepoint/ (type: sharepoint-list): sharepoint::make_sharepoint_source.

// The types make_source knows.
std::vector<std::string> source_kinds();

}  // namespace extdata::sources
