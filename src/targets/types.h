#pragma once
// Target types: where a field's options are pushed (`targets:` in a config document).
// A type is declared like a source kind — its folder under src/targets/ holds its settings
// table and `const config::KindDecl& target_types::NAME()`; the one list below installs
// every declaration into the catalog (config/catalog.h), from which validation, `extdata
// kinds`, GET /api/v1/kinds and docs/configuration.md read it.
namespace extdata::targets {

// Installs the built-in target types into the catalog; main()s call it next to
// sources::register_builtin_kinds(). Idempotent.
void register_builtin_targets();

}  // namespace extdata::targets
