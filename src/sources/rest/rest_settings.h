#pragma once
// The settings table of `type: rest` (pure data; config validates against it).
#include "config/schema.h"

namespace extdata::sources {

const config::Schema& rest_settings();

}  // namespace extdata::sources
