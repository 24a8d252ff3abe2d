#include "config/catalog.h"

#include <cstdio>
#include <cstdlib>
#include <set>

namespace extdata::config {

using nlohmann::json;

namespace {

const Schema* find_variant(const std::vector<KindDecl>& kinds, const std::deque<Schema>& variants,
                           std::string_view type) {
  for (size_t i = 0; i < kinds.size(); ++i)
    if (kinds[i].type == type) return &variants[i];
  return nullptr;
}

bool has(const std::vector<KindDecl>& kinds, const std::string& type) {
  for (const auto& k : kinds)
    if (k.type == type) return true;
  return false;
}

}  // namespace

Catalog::Catalog() {
  source_schema_ =
      Schema{.name = "sources",
             .settings = {settings::string("name", "Unique source name", true),
                          settings::choice("type", {}, "", "Source kind")},
             .discriminator = "type",
             .variant = [](const std::string& t) { return catalog().source_variant(t); }};
  auth_schema_ = Schema{.name = "auth",
                        .settings = {settings::choice("type", {}, "", "Credential method")},
                        .discriminator = "type",
                        .variant = [](const std::string& t) { return catalog().auth_variant(t); }};
  target_schema_ =
      Schema{.name = "targets",
             .settings = {settings::string("name", "Unique target name", true),
                          settings::choice("type", {}, "", "Target type")},
             .discriminator = "type",
             .variant = [](const std::string& t) { return catalog().target_variant(t); }};
}

Catalog& catalog() {
  static Catalog instance;
  return instance;
}

void Catalog::add_source(const KindDecl& kind) {
  if (has(sources_, kind.type)) return;
  Schema full{.name = "sources (type: " + kind.type + ")", .settings = common_source_settings()};
  for (const auto& st : kind.settings->settings) full.settings.push_back(st);
  full.check = kind.settings->check;
  sources_.push_back(kind);
  source_variants_.push_back(std::move(full));
  source_schema_.settings[1].choices.push_back(kind.type);
}

void Catalog::add_auth(const KindDecl& kind) {
  if (has(auth_, kind.type)) return;
  Schema full{.name = "auth (type: " + kind.type + ")",
              .settings = {settings::choice("type", {kind.type}, "", kind.title)}};
  for (const auto& st : kind.settings->settings) full.settings.push_back(st);
  full.check = kind.settings->check;
  auth_.push_back(kind);
  auth_variants_.push_back(std::move(full));
  auth_schema_.settings[0].choices.push_back(kind.type);
}

void Catalog::add_target(const KindDecl& kind) {
  if (has(targets_, kind.type)) return;
  Schema full{.name = "targets (type: " + kind.type + ")",
              .settings = {settings::string("name", "Unique target name", true),
                           settings::choice("type", {kind.type}, "", kind.title),
                           settings::string("field", "The extdata field whose options are pushed",
                                            true)}};
  for (const auto& st : kind.settings->settings) full.settings.push_back(st);
  full.check = kind.settings->check;
  targets_.push_back(kind);
  target_variants_.push_back(std::move(full));
  target_schema_.settings[1].choices.push_back(kind.type);
}

const Schema* Catalog::target_variant(std::string_view type) const {
  return find_variant(targets_, target_variants_, type);
}

const Schema* Catalog::source_variant(std::string_view type) const {
  return find_variant(sources_, source_variants_, type);
}

const Schema* Catalog::auth_variant(std::string_view type) const {
  return find_variant(auth_, auth_variants_, type);
}

void Catalog::require_registered() const {
  if (!sources_.empty() && !auth_.empty()) return;
  std::fputs(
      "extdata: no source kinds or auth methods are registered: this program must call "
      "extdata::sources::register_builtin_kinds() at start-up (see src/sources/kinds.h)\n",
      stderr);
  std::abort();
}

namespace {

json schema_json(const Schema& schema);

json setting_json(const Setting& st) {
  json j = {
      {"key", st.name},           {"type", kind_id(st.kind)},
      {"required", st.required},  {"default", st.default_value ? *st.default_value : json(nullptr)},
      {"secret", st.secret()},    {"description", st.description},
      {"variables", st.variables}};
  if (st.kind == Kind::choice) j["choices"] = st.choices;
  if (st.min) j["min"] = *st.min;
  if (st.max) j["max"] = *st.max;
  if (st.kind == Kind::list && st.object == nullptr) j["item"] = kind_id(st.item);
  if (st.object != nullptr) {
    // A discriminated object (auth) is one of the document's top-level lists.
    if (!st.object->discriminator.empty())
      j["one_of"] = st.object == &catalog().auth_schema() ? "auth" : st.object->name;
    else
      j["settings"] = schema_json(*st.object);
  }
  return j;
}

json schema_json(const Schema& schema) {
  json out = json::array();
  for (const auto& st : schema.settings) out.push_back(setting_json(st));
  return out;
}

}  // namespace

json kinds_document() {
  const Catalog& c = catalog();
  c.require_registered();
  // Keys every source has are marked `common` (the wizard shows them apart).
  std::set<std::string> common;
  for (const auto& st : common_source_settings()) common.insert(st.name);
  json sources = json::array();
  for (const auto& k : c.sources()) {
    json settings = schema_json(*c.source_variant(k.type));
    for (auto& st : settings) st["common"] = common.count(st["key"].get<std::string>()) > 0;
    sources.push_back({{"type", k.type},
                       {"title", k.title},
                       {"description", k.description},
                       {"settings", std::move(settings)}});
  }
  json auth = json::array();
  for (const auto& k : c.auth())
    auth.push_back({{"type", k.type},
                    {"title", k.title},
                    {"description", k.description},
                    {"settings", schema_json(*c.auth_variant(k.type))}});
  json targets = json::array();
  for (const auto& k : c.targets())
    targets.push_back({{"type", k.type},
                       {"title", k.title},
                       {"description", k.description},
                       {"settings", schema_json(*c.target_variant(k.type))}});
  return {{"sources", std::move(sources)}, {"auth", std::move(auth)}, {"targets", targets}};
}

}  // namespace extdata::config
