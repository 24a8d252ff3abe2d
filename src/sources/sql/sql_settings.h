#pragma once
// The settings table of `type: sql` (pure data; config validates against it).
#include "config/schema.h"

namespace extdata::sources::sql {

const config::Schema& sql_settings();

}  // namespace extdata::sources::sql
