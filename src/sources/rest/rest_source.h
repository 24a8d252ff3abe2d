#pragma once
// type: rest — templated HTTP requests (optional steps, then the final request with
// pagination) whose JSON, XML or CSV responses become a RecordSet. See docs/rest.md.
#include <memory>

#include "sources/source.h"

namespace extdata::sources {

Result<std::shared_ptr<Source>> make_rest_source(const config::SourceConfig& config,
                                                 const SourceDeps& deps);

}  // namespace extdata::sources
