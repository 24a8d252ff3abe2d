#pragma once
#include "config/catalog.h"

namespace extdata::sources {

// The settings table of `type: file` (docs/files.md).
const config::Schema& file_settings();

}  // namespace extdata::sources
