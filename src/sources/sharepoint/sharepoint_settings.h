#pragma once
// The settings table of `type: sharepoint-list` (pure data; config validates against it).
// The app registration's keys are the oauth2 method's, taken from its table.
#include "config/schema.h"

namespace extdata::sources::sharepoint {

const config::Schema& sharepoint_settings();

}  // namespace extdata::sources::sharepoint
