#pragma once
// The catalog of kinds: which source kinds and auth methods exist, with the settings
// table of each. Config validation, `extdata kinds`, GET /api/v1/kinds, the generated
// docs/configuration.md and the web wizard all read it.
//
// config sits below sources and auth, so it cannot know them: the kinds declare
// themselves in their own folders (src/sources/<kind>/, src/auth/) and one list in
// src/sources/kinds.cpp (src/auth/methods.cpp) installs every declaration here when the
// process starts (sources::register_builtin_kinds(), called by main()s before anything
// else). Registration is not thread-safe; reads after it are. Validating a source before
// any kind is registered is a programming error: it aborts with a message naming the
// missing call instead of answering "unknown type".
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/schema.h"

namespace extdata::config {

// What a kind says about itself. `settings` holds the kind's own keys; the catalog adds
// `type` (and, for sources, the keys every source has: common_source_settings()).
struct KindDecl {
  std::string type;         // "rest", "sharepoint-list", "oauth2"
  std::string title;        // "REST API"
  std::string description;  // one sentence for people
  const Schema* settings = nullptr;
};

class Catalog {
 public:
  // Adding a type that is already there is a no-op (start-up may run twice in tests).
  void add_source(const KindDecl& kind);
  void add_auth(const KindDecl& kind);
  // Target types (`targets:`, where a field's options are pushed): declared like kinds, in
  // their own folder under src/targets/, installed by targets::register_builtin_targets().
  void add_target(const KindDecl& kind);

  const std::vector<KindDecl>& sources() const { return sources_; }
  const std::vector<KindDecl>& auth() const { return auth_; }
  const std::vector<KindDecl>& targets() const { return targets_; }
  // The full schema a value of this type is validated against; null when unknown.
  const Schema* source_variant(std::string_view type) const;
  const Schema* auth_variant(std::string_view type) const;
  const Schema* target_variant(std::string_view type) const;

  // The discriminated schemas ("sources", "auth"), their `type` choices kept current.
  const Schema& source_schema() const { return source_schema_; }
  const Schema& auth_schema() const { return auth_schema_; }
  const Schema& target_schema() const { return target_schema_; }

  // Aborts with a clear message when no source kind has been registered.
  void require_registered() const;

 private:
  Catalog();
  friend Catalog& catalog();

  std::vector<KindDecl> sources_, auth_, targets_;
  std::deque<Schema> source_variants_, auth_variants_, target_variants_;  // stable addresses
  Schema source_schema_, auth_schema_, target_schema_;
};

Catalog& catalog();

// {"sources":[{type,title,description,settings:[…]}],"auth":[…]} — every setting with key,
// type, required, default, secret, description, variables (and choices, min/max, nested).
nlohmann::json kinds_document();

}  // namespace extdata::config
