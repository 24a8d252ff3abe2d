#include "targets/types.h"

#include "config/catalog.h"

// The one list of target types: one X(name) per type; the declaration lives in its folder.
#define EXTDATA_TARGET_TYPES(X) X(jira_field_options)

namespace extdata::targets {

namespace target_types {
#define EXTDATA_DECLARE(name) const config::KindDecl& name();
EXTDATA_TARGET_TYPES(EXTDATA_DECLARE)
#undef EXTDATA_DECLARE
}  // namespace target_types

void register_builtin_targets() {
#define EXTDATA_REGISTER(name) config::catalog().add_target(target_types::name());
  EXTDATA_TARGET_TYPES(EXTDATA_REGISTER)
#undef EXTDATA_REGISTER
}

}  // namespace extdata::targets
