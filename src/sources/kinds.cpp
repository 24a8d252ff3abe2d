#include "sources/kinds.h"

#include "sources/source.h"

namespace extdata::sources {

// The source kinds, one entry each. A kind's folder defines `kinds::NAME()`
// (src/sources/NAME/); see "Adding a source kind" in docs/architecture.md.
#define EXTDATA_SOURCE_KINDS(X) X(rest) X(sharepoint) X(file) X(sql)

namespace kinds {
#define EXTDATA_DECLARE_KIND(name) const SourceKind& name();
EXTDATA_SOURCE_KINDS(EXTDATA_DECLARE_KIND)
#undef EXTDATA_DECLARE_KIND
}  // namespace kinds

namespace {

const std::vector<const SourceKind*>& all_kinds() {
#define EXTDATA_LIST_KIND(name) &kinds::name(),
  static const std::vector<const SourceKind*> list = {EXTDATA_SOURCE_KINDS(EXTDATA_LIST_KIND)};
#undef EXTDATA_LIST_KIND
  return list;
}

}  // namespace

void register_builtin_kinds() {
  auth::register_builtin_methods();
  for (const SourceKind* k : all_kinds()) config::catalog().add_source(k->declaration);
}

std::vector<std::string> source_kinds() {
  return config::source_types();
}

std::string describe_source(const config::SourceConfig& config) {
  for (const SourceKind* k : all_kinds())
    if (k->declaration.type == config.type) return k->summary(config);
  return "";
}

Result<std::shared_ptr<Source>> make_source(const config::SourceConfig& config,
                                            const SourceDeps& deps) {
  config::catalog().require_registered();
  for (const SourceKind* k : all_kinds())
    if (k->declaration.type == config.type) return k->create(config, deps);
  const auto known = source_kinds();
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  Error e("source.unknown_type",
          "source '" + config.name + "': unknown source type '" + config.type + "'",
          "known types: " + list);
  if (auto close = config::closest_match(config.type, known))
    e.hint = "did you mean '" + *close + "'? " + e.hint;
  e.with("key", "type");
  return e;
}

}  // namespace extdata::sources
