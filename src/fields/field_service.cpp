#include "fields/field_service.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "core/error_json.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/time.h"
#include "extract/json_text.h"
#include "extract/record_set_binary.h"
#include "extract/utf8.h"
#include "fields/table_image.h"
#include "fields/text_fold.h"

namespace extdata::fields {

namespace {

constexpr size_t kMaxContextKey = 256;
constexpr size_t kMaxQuery = 1024;

void append_timestamp(std::string& out, std::int64_t seconds) {
  out += '"' + format_rfc3339(from_unix_seconds(seconds)) + '"';
}

// Only when a refresh failed and stale records answer: not the hot path. Options and values
// go to readers (forms, widgets): the upstream details stay with admins (source status, logs).
void append_error(std::string& out, const Error& error) {
  Error shown = error;
  shown.details.clear();
  out += extdata::to_json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_freshness(std::string& out, bool stale, std::int64_t fetched_at, double age_seconds) {
  out += ",\"stale\":";
  out += stale ? "true" : "false";
  out += ",\"fetched_at\":";
  append_timestamp(out, fetched_at);
  out += ",\"age_seconds\":";
  out += std::to_string(static_cast<long long>(std::floor(age_seconds)));
}

// Values from the outside are checked before they reach templates and JSON output.
Status check_context(const Context& context) {
  for (const auto& [key, value] : context) {
    if (key.empty() || key.size() > kMaxContextKey) {
      return Error("field.bad_context",
                   "context key '" + key.substr(0, 64) + "' is empty or longer than 256 bytes",
                   "send context keys such as ctx.country=DE");
    }
    for (const char c : key) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '{' || c == '}') {
        return Error(
            "field.bad_context",
            "context key '" + key.substr(0, 64) + "' contains a control character or brace",
            "context keys are names such as country or fields.country");
      }
    }
    if (value.size() > limits().context_max_length) {
      return Error("field.context_too_long",
                   "context value of '" + key + "' is " + std::to_string(value.size()) +
                       " bytes, over " + describe_limit(&Limits::context_max_length),
                   "send the stored key of the other field, not its data")
          .with("key", key);
    }
    if (extract::utf8::find_invalid(key) != std::string_view::npos ||
        extract::utf8::find_invalid(value) != std::string_view::npos) {
      return Error("field.bad_context", "context '" + key + "' is not valid UTF-8",
                   "send UTF-8 text");
    }
  }
  return ok_status();
}

// "'a', 'b'" of at most a few names, each shortened: the names come from the caller.
std::string quoted_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) {
    if (i) out += ", ";
    out += "'" + names[i].substr(0, 64) + "'";
  }
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

Status check_rule(const FieldMapping& mapping, const std::string& key, const ContextRule& rule,
                  const std::string& value) {
  const std::string where = "fields." + mapping.name + ".context." + key;
  if (rule.max_length && value.size() > *rule.max_length) {
    return Error("field.context_too_long",
                 "context value of '" + key + "' is " + std::to_string(value.size()) +
                     " bytes; field '" + mapping.name + "' takes at most " +
                     std::to_string(*rule.max_length) + " (" + where + ".max_length)",
                 "send the stored key of the other field, not its data")
        .with("key", key);
  }
  if (!rule.values.empty() &&
      std::find(rule.values.begin(), rule.values.end(), value) == rule.values.end()) {
    return Error("field.context_rejected",
                 "context value of '" + key + "' is not one of the values field '" + mapping.name +
                     "' accepts (" + where + ".values)",
                 "send one of the declared values")
        .with("key", key);
  }
  if (rule.pattern && !rule.pattern->full_match(value)) {
    return Error("field.context_rejected",
                 "context value of '" + key + "' does not match " + rule.pattern_text + " (" +
                     where + ".pattern)",
                 "send a value the whole of which matches the pattern")
        .with("key", key);
  }
  return ok_status();
}

// A field takes only the context keys it declares (its variables' names and `context:`), each
// within its rule: callers choose these values, and every distinct one is a cache key.
Status check_declared_context(const FieldMapping& mapping, const Context& context) {
  std::vector<std::string> undeclared;
  for (const auto& [key, value] : context)
    if (!mapping.context.contains(key)) undeclared.push_back(key);
  if (!undeclared.empty()) {
    std::vector<std::string> declared;
    for (const auto& [key, rule] : mapping.context) declared.push_back(key);
    Error error(
        "field.undeclared_context",
        "field '" + mapping.name + "' does not take the context key" +
            (undeclared.size() > 1 ? "s " : " ") + quoted_names(undeclared) +
            (declared.empty() ? "; it takes no context" : "; it takes " + quoted_names(declared)),
        "send only the keys the field declares; an admin can declare more under the "
        "field's context:");
    return error.with("undeclared", quoted_names(undeclared));
  }
  for (const auto& [key, value] : context)
    EXTDATA_TRY(check_rule(mapping, key, mapping.context.find(key)->second, value));
  return ok_status();
}

// Remembers the names a template asked for that the context does not have.
class RecordingContext : public extract::TemplateContext {
 public:
  explicit RecordingContext(const Context& values) : values_(values) {}
  std::optional<std::string> lookup(std::string_view name) const override {
    const auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    missing_.emplace_back(name);
    return std::nullopt;
  }
  std::vector<std::string>& missing() const { return missing_; }

 private:
  const Context& values_;
  mutable std::vector<std::string> missing_;
};

std::string definition_text(const config::FieldConfig& field) {
  return field.source + '\n' + field.spec.dump();
}

// The object of the field's declared `data:` for one record; empty when none is declared.
std::string option_data(const FieldMapping& mapping, extract::RecordRef record) {
  if (mapping.data.empty()) return {};
  const extract::RecordContext context(record);
  std::string out = "{";
  for (const auto& [name, tmpl] : mapping.data) {
    if (out.size() > 1) out += ',';
    extract::append_json_string(out, name);
    out += ':';
    extract::append_json_string(out, tmpl.render(context));
  }
  out += '}';
  return out;
}

// The declared data of an option's record. The records are not touched when the field declares
// none: an answer from a stored table before the records are loaded has none (resolve_early).
std::string record_data(const FieldMapping& mapping, const extract::RecordSet* records,
                        uint32_t record) {
  if (mapping.data.empty() || !records) return {};
  return option_data(mapping, (*records)[record]);
}

// One element of the flat array: {"id":value,"value":label,…data columns but id and value}.
void append_flat_option(std::string& out, const FieldMapping& mapping, const OptionsTable& table,
                        const extract::RecordSet* records, size_t option) {
  out += "{\"id\":";
  extract::append_json_string(out, table.value(option));
  out += ",\"value\":";
  extract::append_json_string(out, table.label(option));
  if (!mapping.data.empty() && records) {
    const extract::RecordContext context((*records)[table.record(option)]);
    for (const auto& [name, tmpl] : mapping.data) {
      if (name == "id" || name == "value") continue;
      out += ',';
      extract::append_json_string(out, name);
      out += ':';
      extract::append_json_string(out, tmpl.render(context));
    }
  }
  out += '}';
}

Option make_option(const FieldMapping& mapping, const OptionsTable& table,
                   const extract::RecordSet* records, size_t option) {
  Option out;
  out.value = std::string(table.value(option));
  out.label = std::string(table.label(option));
  out.data = record_data(mapping, records, table.record(option));
  return out;
}

}  // namespace

namespace {

// A field's options table over one record set, with the id its rendered pages are keyed by.
struct BuiltTable {
  OptionsTable table;
  std::uint64_t id;
};

// After a patch: the old table's rendered pages whose query matches none of the options the
// patch removed or added list the same options, in the same order, with the same total, so the
// patched table takes them over; the others are dropped. Beyond a few hundred changed options
// checking would cost more than rendering again: all are dropped.
void carry_pages(RenderedOptions& rendered, const BuiltTable& old, const BuiltTable& patched,
                 const OptionsTable::Touched& touched) {
  constexpr size_t kMaxChecked = 256;
  const std::string from = std::to_string(old.id) + ':';
  if (touched.removed.size() + touched.added.size() > kMaxChecked) {
    rendered.erase_prefix(from);
    return;
  }
  std::vector<std::string> keys;
  for (const uint32_t option : touched.removed) keys.push_back(old.table.search_key(option));
  for (const uint32_t option : touched.added) keys.push_back(patched.table.search_key(option));
  rendered.move_prefix(from, std::to_string(patched.id) + ':', [&](std::string_view rest) {
    // rest: "offset:limit:q"
    const size_t limit_at = rest.find(':');
    const size_t q_at =
        limit_at == std::string_view::npos ? limit_at : rest.find(':', limit_at + 1);
    if (q_at == std::string_view::npos) return false;
    const std::string query_key = fold_for_search(rest.substr(q_at + 1));
    return std::none_of(keys.begin(), keys.end(),
                        [&](std::string_view key) { return key_matches(key, query_key); });
  });
}

void append_options_page(std::string& out, const FieldMapping& mapping, const OptionsTable& table,
                         const extract::RecordSet* records, const SearchResult& found) {
  out += "{\"options\":[";
  bool first = true;
  for (const uint32_t option : found.ids) {
    if (!first) out += ',';
    first = false;
    out += "{\"value\":";
    extract::append_json_string(out, table.value(option));
    out += ",\"label\":";
    extract::append_json_string(out, table.label(option));
    out += ",\"data\":";
    const std::string data = record_data(mapping, records, table.record(option));
    out += data.empty() ? "null" : data;
    out += '}';
  }
  out += "],\"total\":";
  out += std::to_string(found.total);
}

void append_options_tail(std::string& out, const OptionsResult& result) {
  append_freshness(out, result.stale, result.fetched_at, result.age_seconds);
  if (!result.warnings.empty()) {
    out += ",\"warnings\":[";
    for (size_t i = 0; i < result.warnings.size(); ++i) {
      if (i) out += ',';
      extract::append_json_string(out, result.warnings[i]);
    }
    out += ']';
  }
  if (result.error) {
    out += ",\"error\":";
    append_error(out, *result.error);
  }
  out += '}';
}

}  // namespace

void append_json(std::string& out, const OptionsResult& result) {
  out += "{\"options\":[";
  bool first = true;
  for (const Option& option : result.options) {
    if (!first) out += ',';
    first = false;
    out += "{\"value\":";
    extract::append_json_string(out, option.value);
    out += ",\"label\":";
    extract::append_json_string(out, option.label);
    out += ",\"data\":";
    out += option.data.empty() ? "null" : option.data;
    out += '}';
  }
  out += "],\"total\":";
  out += std::to_string(result.total);
  append_options_tail(out, result);
}

std::string to_json(const OptionsResult& result) {
  std::string out;
  out.reserve(256 + result.options.size() * 256);
  append_json(out, result);
  return out;
}

std::string to_json(const ValueResult& result) {
  std::string out = "{\"found\":";
  out += result.found ? "true" : "false";
  out += ",\"value\":";
  extract::append_json_string(out, result.value);
  if (result.found) {
    out += ",\"label\":";
    extract::append_json_string(out, result.label);
    out += ",\"data\":";
    out += result.data.empty() ? "null" : result.data;
  } else {
    out += ",\"label\":null,\"data\":null,\"message\":\"the key no longer exists upstream\"";
  }
  append_freshness(out, result.stale, result.fetched_at, result.age_seconds);
  if (result.error) {
    out += ",\"error\":";
    append_error(out, *result.error);
  }
  out += '}';
  return out;
}

Result<Context> parse_context_json(std::string_view text) {
  auto parsed = parse_request_json(text);
  if (!parsed.ok() && parsed.error().code != "api.bad_json") return parsed.error();
  return context_from_json(parsed.ok() ? *parsed : nlohmann::json());
}

Result<Context> context_from_json(const nlohmann::json& parsed) {
  if (!parsed.is_object()) {
    return Error("field.bad_context", "the context is not a JSON object",
                 "send {\"country\": \"DE\"}: an object of strings");
  }
  Context context;
  for (const auto& [key, value] : parsed.items()) {
    if (value.is_string()) {
      context[key] = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      context[key] = value.dump();
    } else if (value.is_null()) {
      continue;
    } else {
      return Error("field.bad_context",
                   "context." + key + " is " + value.type_name() + ", not a string",
                   "send the other field's stored key as a string");
    }
  }
  EXTDATA_TRY(check_context(context));
  return context;
}

FieldService::FieldService(store::Store& store, cache::SourceLookup sources,
                           cache::RecordCache& cache, Metrics& metrics,
                           size_t rendered_options_bytes)
    : store_(store),
      sources_(std::move(sources)),
      cache_(cache),
      metrics_(metrics),
      rendered_(rendered_options_bytes, metrics) {}

Result<std::shared_ptr<const FieldService::CompiledField>> FieldService::compiled(
    const std::string& name) {
  {
    std::shared_lock lock(mu_);
    const auto it = fields_.find(name);
    if (it != fields_.end()) return it->second;
  }
  EXTDATA_ASSIGN_OR_RETURN(auto stored, store_.get_field(name));
  if (!stored) {
    Error error("field.not_found", "no field named '" + name + "'",
                "list the fields with GET /api/v1/fields");
    if (auto all = store_.list_fields(); all.ok()) {
      std::vector<std::string> names;
      for (const auto& f : *all) names.push_back(f.name);
      if (auto near = config::closest_match(name, names))
        error.hint = "did you mean '" + *near + "'?";
    }
    return error;
  }
  EXTDATA_ASSIGN_OR_RETURN(auto mapping, FieldMapping::compile(*stored));
  std::unique_lock lock(mu_);
  auto field = std::make_shared<CompiledField>();
  field->mapping = std::move(mapping);
  field->tag = name + "#" + std::to_string(++generation_);
  field->definition = definition_text(*stored);
  char hash[17];
  std::snprintf(
      hash, sizeof hash, "%016llx",
      static_cast<unsigned long long>(extract::BinarySnapshot::checksum(field->definition)));
  field->version = "table-image-v" + std::to_string(kTableImageVersion) + ":" + hash;
  auto& slot = fields_[name];
  if (!slot) slot = std::move(field);  // a concurrent compile may have won; keep one
  return slot;
}

void FieldService::invalidate_field(const std::string& name) {
  {
    std::unique_lock lock(mu_);
    fields_.erase(name);
  }
  cache_.drop_derived(name + "#");
  drop_early(name + "#");
}

void FieldService::reload_changed() {
  std::vector<std::pair<std::string, std::string>> known;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, field] : fields_) known.emplace_back(name, field->definition);
  }
  for (const auto& [name, definition] : known) {
    auto stored = store_.get_field(name);
    if (!stored.ok()) continue;  // looked at again after the next change
    if (!*stored || definition_text(**stored) != definition) invalidate_field(name);
  }
}

void FieldService::reload() {
  std::vector<std::string> names;
  {
    std::unique_lock lock(mu_);
    for (const auto& [name, field] : fields_) names.push_back(name);
    fields_.clear();
  }
  for (const auto& name : names) cache_.drop_derived(name + "#");
  drop_early("");
}

void FieldService::drop_early(const std::string& prefix) {
  std::lock_guard lock(early_mu_);
  std::erase_if(early_, [&](const auto& slot) { return slot.first.starts_with(prefix); });
}

namespace {

Result<sources::Variables> variables_for(const FieldMapping& mapping, const Context& context) {
  sources::Variables variables;
  for (const auto& [variable, tmpl] : mapping.variables) {
    RecordingContext recording(context);
    std::string value = tmpl.render(recording);
    if (value.empty() && !recording.missing().empty()) {
      const std::string& key = recording.missing().front();
      return Error("field.bad_context",
                   "field '" + mapping.name + "' needs the context value '" + key +
                       "' (variables." + variable + " = " + tmpl.text() + ")",
                   "pass ctx." + key + "=VALUE (the value of the field it depends on)")
          .with("missing", key);
    }
    variables.emplace(variable, std::move(value));
  }
  return variables;
}

}  // namespace

Result<sources::Variables> FieldService::resolve_variables(const std::string& field,
                                                           const Context& context) {
  EXTDATA_TRY(check_context(context));
  EXTDATA_ASSIGN_OR_RETURN(auto compiled_field, compiled(field));
  EXTDATA_TRY(check_declared_context(compiled_field->mapping, context));
  return variables_for(compiled_field->mapping, context);
}

namespace {

// A stored table passed its checksums and was saved for records with the same fetch time,
// cursor and count; a few of its options rendered again from the records must still agree
// (a second defence against a table keyed to other records, not a proof).
bool agrees_with_records(const OptionsTable& table, const FieldMapping& mapping,
                         const extract::RecordSet& records) {
  constexpr size_t kChecks = 16;
  const size_t step = std::max<size_t>(1, table.size() / kChecks);
  for (size_t option = 0; option < table.size(); option += step) {
    const extract::RecordContext context(records[table.record(option)]);
    if (mapping.value.render(context) != table.value(option) ||
        mapping.label.render(context) != table.label(option)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<FieldService::Resolved> FieldService::resolve(const std::string& name,
                                                     const Context& context) {
  EXTDATA_TRY(check_context(context));
  Resolved out;
  EXTDATA_ASSIGN_OR_RETURN(out.field, compiled(name));
  const FieldMapping& mapping = out.field->mapping;
  EXTDATA_TRY(check_declared_context(mapping, context));
  EXTDATA_ASSIGN_OR_RETURN(auto variables, variables_for(mapping, context));
  if (auto early = resolve_early(out.field, variables)) return std::move(*early);
  EXTDATA_ASSIGN_OR_RETURN(
      out.cached, cache_.get(mapping.source, variables, mapping.cache_ttl, mapping.snapshot));
  const auto records = out.cached.records;
  const auto field = out.field;
  EXTDATA_ASSIGN_OR_RETURN(
      auto built,
      out.cached.derived->get_or_build(field->tag, [&]() -> Result<std::shared_ptr<const void>> {
        if (auto early = adopt_early(*field, out.cached)) return early;
        if (auto patched = patch_table(*field, out.cached)) return patched;
        EXTDATA_ASSIGN_OR_RETURN(auto got, load_or_build_table(*field, out.cached));
        auto built = std::shared_ptr<const void>(std::make_shared<const BuiltTable>(
            BuiltTable{std::move(got.table), next_table_id_.fetch_add(1)}));
        if (got.to_store) store_table(*field, out.cached, built);
        return built;
      }));
  out.set_table(built);
  return out;
}

Result<FieldService::Table> FieldService::load_or_build_table(const CompiledField& field,
                                                              const cache::CachedRecords& cached) {
  const extract::RecordSet& records = *cached.records;
  const bool worth_storing = cached.kept && records.size() >= store_tables_from_;
  const std::string name = "field:" + field.mapping.name;
  bool tried_early;  // resolve_early read the stored table of this field and key already
  {
    std::lock_guard lock(early_mu_);
    tried_early = settled_.count(field.tag + '\n' + cached.key) > 0;
  }
  if (worth_storing && !tried_early) {
    if (TableImageReader image; cache_.load_derived(cached, name, field.version, image)) {
      auto table = image.finish(records.size());
      if (table.ok() && agrees_with_records(*table, field.mapping, records)) {
        count_loaded(field.mapping.name);
        return Table{std::move(table).value(), false};
      }
      Error why =
          table.ok() ? Error("field.table_image", "built from other records") : table.error();
      if (table.ok()) why.details["reason"] = "records";
      count_rejected(field.mapping.name, why);
    }
  }
  EXTDATA_ASSIGN_OR_RETURN(auto table, OptionsTable::build(field.mapping, records));
  return Table{std::move(table), worth_storing};
}

std::shared_ptr<const void> FieldService::patch_table(const CompiledField& field,
                                                      const cache::CachedRecords& cached) {
  auto previous = cached.derived->previous(field.tag);
  if (!previous) return nullptr;
  // Whatever happens, the old table and its rendered pages are done with.
  cached.derived->release_previous(field.tag);
  const auto old = std::static_pointer_cast<const BuiltTable>(previous->value);
  std::string why_not = "mismatch";
  std::optional<OptionsTable> table;
  OptionsTable::Touched touched;
  if (previous->records && previous->changes) {
    table = OptionsTable::patch(old->table, field.mapping, *previous->records, *cached.records,
                                *previous->changes, why_not, &touched);
  }
  if (!table) {
    rendered_.erase_prefix(std::to_string(old->id) + ':');
    metrics_
        .counter("extdata_fields_tables_rebuilt_total",
                 {{"field", field.mapping.name}, {"reason", why_not}},
                 "Option tables built anew after an incremental sync instead of patched")
        .inc();
    return nullptr;
  }
  metrics_
      .counter("extdata_fields_tables_patched_total", {{"field", field.mapping.name}},
               "Option tables patched with an incremental sync's changes instead of built anew")
      .inc();
  auto entry = std::make_shared<const BuiltTable>(
      BuiltTable{std::move(*table), next_table_id_.fetch_add(1)});
  carry_pages(rendered_, *old, *entry, touched);
  auto built = std::shared_ptr<const void>(std::move(entry));
  if (cached.kept && cached.records->size() >= store_tables_from_)
    store_table(field, cached, built);
  return built;
}

void FieldService::store_table(const CompiledField& field, const cache::CachedRecords& cached,
                               const std::shared_ptr<const void>& built) {
  const auto entry = std::static_pointer_cast<const BuiltTable>(built);
  cache_.save_derived(cached, "field:" + field.mapping.name, field.version,
                      [entry](const store::Store::PieceSink& sink) {
                        return write_table_image(entry->table, sink);
                      });
}

namespace {

bool same_records(const cache::CachedRecords& a, const cache::CachedRecords& b) {
  return unix_seconds(a.fetched_at) == unix_seconds(b.fetched_at) &&
         a.record_count == b.record_count && a.cursor == b.cursor;
}

}  // namespace

std::optional<FieldService::Resolved> FieldService::resolve_early(
    const std::shared_ptr<const CompiledField>& field, const sources::Variables& variables) {
  const FieldMapping& mapping = field->mapping;
  if (!mapping.data.empty()) return std::nullopt;  // data columns need the records
  const std::string slot =
      field->tag + '\n' + cache::RecordCache::key_for(mapping.source, variables);
  std::optional<Early> early;
  {
    std::lock_guard lock(early_mu_);
    if (settled_.count(slot) || cache_.in_memory(mapping.source, variables)) return std::nullopt;
    if (const auto it = early_.find(slot); it != early_.end()) early = it->second;
    if (!early) {
      // Claimed: the stored table is read at most once per field and key; concurrent first
      // requests take the ordinary path meanwhile.
      if (settled_.size() >= kMaxSettled) settled_.clear();
      settled_.insert(slot);
    }
  }
  if (!early) {
    early = read_early(*field, variables);  // the store, without holding early_mu_
    if (!early) return std::nullopt;
    std::lock_guard lock(early_mu_);
    // Records loaded meanwhile took the ordinary path: keep nothing they would not adopt.
    if (!cache_.in_memory(mapping.source, variables)) {
      early_.emplace(slot, *early);
      settled_.erase(slot);
    }
  }
  Resolved out;
  out.field = field;
  out.cached = early->stamp;
  // A failed load of the records (snapshot refused, upstream down) makes the answer stale-if-error.
  cache_.age_stored(out.cached, mapping.cache_ttl, mapping.snapshot);
  out.set_table(early->built);
  return out;
}

std::optional<FieldService::Early> FieldService::read_early(const CompiledField& field,
                                                            const sources::Variables& variables) {
  const FieldMapping& mapping = field.mapping;
  auto stamp = cache_.stored_stamp(mapping.source, variables, mapping.cache_ttl);
  if (!stamp || stamp->record_count < store_tables_from_) return std::nullopt;
  TableImageReader image;
  if (!cache_.load_derived(*stamp, "field:" + mapping.name, field.version, image)) {
    return std::nullopt;
  }
  auto table = image.finish(stamp->record_count);
  if (!table.ok()) {
    count_rejected(mapping.name, table.error());
    return std::nullopt;
  }
  count_loaded(mapping.name);
  // The records follow in the background; until they are in memory this table answers.
  cache_.load_in_background(mapping.source, variables, mapping.cache_ttl, mapping.snapshot);
  return Early{std::move(*stamp), std::make_shared<const BuiltTable>(BuiltTable{
                                      std::move(table).value(), next_table_id_.fetch_add(1)})};
}

std::shared_ptr<const void> FieldService::adopt_early(const CompiledField& field,
                                                      const cache::CachedRecords& cached) {
  const std::string slot = field.tag + '\n' + cached.key;
  std::lock_guard lock(early_mu_);
  const auto it = early_.find(slot);
  if (it == early_.end()) return nullptr;
  auto early = std::move(it->second);
  early_.erase(it);
  if (settled_.size() >= kMaxSettled) settled_.clear();
  settled_.insert(slot);
  const auto& table = std::static_pointer_cast<const BuiltTable>(early.built)->table;
  // The records it answered for arrived: the same snapshot, and they agree with the table.
  if (!same_records(early.stamp, cached) ||
      !agrees_with_records(table, field.mapping, *cached.records)) {
    return nullptr;
  }
  return early.built;
}

void FieldService::count_loaded(const std::string& field) {
  metrics_
      .counter("extdata_fields_tables_loaded_total", {{"field", field}},
               "Option tables loaded from beside their snapshot instead of built")
      .inc();
}

void FieldService::count_rejected(const std::string& field, const Error& error) {
  const auto it = error.details.find("reason");
  const std::string reason = it != error.details.end() ? it->second : "unreadable";
  metrics_
      .counter("extdata_fields_tables_rejected_total", {{"field", field}, {"reason", reason}},
               "Stored option tables not used (corrupt, another version, other records)")
      .inc();
  log::warn("fields.table_image_rejected", {{"field", field}, {"reason", reason}});
}

void FieldService::Resolved::set_table(const std::shared_ptr<const void>& built) {
  const auto entry = std::static_pointer_cast<const BuiltTable>(built);
  table = std::shared_ptr<const OptionsTable>(entry, &entry->table);
  table_id = entry->id;
}

namespace {

Status check_query(const OptionsQuery& query) {
  if (query.offset < 0) {
    return Error("field.bad_offset",
                 "offset is " + std::to_string(query.offset) + ", it cannot be negative",
                 "pass offset=0 or more");
  }
  if (query.q.size() > kMaxQuery ||
      extract::utf8::find_invalid(query.q) != std::string_view::npos) {
    return Error("field.bad_query", "q is longer than 1024 bytes or not valid UTF-8",
                 "send a shorter search text");
  }
  // The limit is checked before anything is fetched; the field's default needs the field.
  if (query.limit && (*query.limit < kMinLimit || *query.limit > kMaxLimit)) {
    return Error("field.bad_limit",
                 "limit is " + std::to_string(*query.limit) + ", outside 1..1000",
                 "pass a limit between 1 and 1000");
  }
  return ok_status();
}

std::string empty_value_warning(const OptionsTable& table, const FieldMapping& mapping) {
  return std::to_string(table.without_value()) +
         " records have an empty value (value = " + mapping.value.text() + ") and are not offered";
}

}  // namespace

// Everything of an options answer but the options: freshness, why stale, warnings.
OptionsResult FieldService::Resolved::freshness() const {
  OptionsResult result;
  result.stale = cached.stale;
  result.fetched_at = unix_seconds(cached.fetched_at);
  result.age_seconds = cached.age_seconds;
  result.error = cached.error;
  if (table->without_value() > 0) {
    result.warnings.push_back(empty_value_warning(*table, field->mapping));
  }
  return result;
}

Result<OptionsResult> FieldService::options(const std::string& field, const OptionsQuery& query) {
  EXTDATA_TRY(check_query(query));
  EXTDATA_ASSIGN_OR_RETURN(auto resolved, resolve(field, query.context));
  const OptionsTable& table = *resolved.table;
  const size_t limit = static_cast<size_t>(query.limit.value_or(resolved.field->mapping.limit));

  const SearchResult found = table.search(query.q, static_cast<size_t>(query.offset), limit);
  OptionsResult result = resolved.freshness();
  result.options.reserve(found.ids.size());
  for (const uint32_t option : found.ids) {
    result.options.push_back(
        make_option(resolved.field->mapping, table, resolved.cached.records.get(), option));
  }
  result.total = found.total;
  return result;
}

Result<std::string> FieldService::options_json(const std::string& field,
                                               const OptionsQuery& query) {
  EXTDATA_TRY(check_query(query));
  EXTDATA_ASSIGN_OR_RETURN(auto resolved, resolve(field, query.context));
  return render_options(resolved, query);
}

std::optional<Result<std::string>> FieldService::options_json_if_ready(const std::string& field,
                                                                       const OptionsQuery& query) {
  if (auto checked = check_query(query); !checked.ok()) return Result<std::string>(checked.error());
  if (auto checked = check_context(query.context); !checked.ok())
    return Result<std::string>(checked.error());
  Resolved resolved;
  {
    std::shared_lock lock(mu_);
    const auto it = fields_.find(field);
    if (it == fields_.end()) return std::nullopt;  // compiling reads the store
    resolved.field = it->second;
  }
  const FieldMapping& mapping = resolved.field->mapping;
  if (auto checked = check_declared_context(mapping, query.context); !checked.ok())
    return Result<std::string>(checked.error());
  auto variables = variables_for(mapping, query.context);
  if (!variables.ok()) return Result<std::string>(variables.error());
  auto cached = cache_.peek(mapping.source, *variables, mapping.cache_ttl, mapping.snapshot);
  if (!cached) return std::nullopt;
  auto built = cached->derived->find(resolved.field->tag);
  if (!built) return std::nullopt;  // the table is built on first use, which takes a while
  resolved.cached = std::move(*cached);
  resolved.set_table(built);
  return render_options(resolved, query);
}

std::string FieldService::render_options(const Resolved& resolved, const OptionsQuery& query) {
  const OptionsTable& table = *resolved.table;
  const size_t limit = static_cast<size_t>(query.limit.value_or(resolved.field->mapping.limit));
  std::string key = std::to_string(resolved.table_id) + ':' + std::to_string(query.offset) + ':' +
                    std::to_string(limit) + ':' + query.q;
  auto page = rendered_.find(key);
  if (!page) {
    const SearchResult found = table.search(query.q, static_cast<size_t>(query.offset), limit);
    auto text = std::make_shared<std::string>();
    text->reserve(64 + found.ids.size() * 512);
    append_options_page(*text, resolved.field->mapping, table, resolved.cached.records.get(),
                        found);
    page = text;
    rendered_.put(key, std::move(text));
  }
  std::string out;
  out.reserve(page->size() + 256);
  out += *page;
  append_options_tail(out, resolved.freshness());
  return out;
}

Result<std::string> FieldService::options_array_json(const std::string& field,
                                                     const OptionsQuery& query, size_t max_bytes) {
  EXTDATA_TRY(check_query(query));
  EXTDATA_ASSIGN_OR_RETURN(auto resolved, resolve(field, query.context));
  const OptionsTable& table = *resolved.table;
  const size_t limit = query.limit ? static_cast<size_t>(*query.limit) : table.size();
  const SearchResult found = table.search(query.q, static_cast<size_t>(query.offset), limit);
  std::string out = "[";
  for (const uint32_t option : found.ids) {
    if (out.size() > 1) out += ',';
    append_flat_option(out, resolved.field->mapping, table, resolved.cached.records.get(), option);
    if (out.size() + 1 > max_bytes) {
      return Error("field.array_too_large",
                   "the options of field '" + field + "' as a flat array are over " +
                       std::to_string(max_bytes) + " bytes (" + std::to_string(found.ids.size()) +
                       " options)",
                   "Narrow it with q or limit, or raise the limit: " +
                       describe_limit(&Limits::options_array_max_bytes) + ".");
    }
  }
  out += ']';
  return out;
}

Result<OptionsResult> FieldService::all_options(const std::string& field, const Context& context) {
  EXTDATA_ASSIGN_OR_RETURN(auto resolved, resolve(field, context));
  const OptionsTable& table = *resolved.table;
  OptionsResult result = resolved.freshness();
  result.options.reserve(table.size());
  for (size_t option = 0; option < table.size(); ++option)
    result.options.push_back(
        make_option(resolved.field->mapping, table, resolved.cached.records.get(), option));
  result.total = table.size();
  return result;
}

Result<ValueResult> FieldService::value(const std::string& field, const std::string& key,
                                        const Context& context) {
  EXTDATA_ASSIGN_OR_RETURN(auto resolved, resolve(field, context));
  const OptionsTable& table = *resolved.table;
  ValueResult result;
  result.value = key;
  if (const auto option = table.find_value(key)) {
    result.found = true;
    result.label = std::string(table.label(*option));
    result.data =
        record_data(resolved.field->mapping, resolved.cached.records.get(), table.record(*option));
  }
  result.stale = resolved.cached.stale;
  result.fetched_at = unix_seconds(resolved.cached.fetched_at);
  result.age_seconds = resolved.cached.age_seconds;
  result.error = resolved.cached.error;
  return result;
}

Result<std::vector<std::string>> FieldService::check(const config::FieldConfig& field,
                                                     const Context& context) {
  EXTDATA_TRY(check_context(context));
  EXTDATA_ASSIGN_OR_RETURN(auto mapping, FieldMapping::compile(field));
  EXTDATA_TRY(check_declared_context(mapping, context));
  if (!sources_(field.source)) {
    return Error(
        "source.not_found",
        "field '" + field.name + "' uses the source '" + field.source + "', which does not exist",
        "create the source first, or fix the field's `source`");
  }
  auto variables = variables_for(mapping, context);
  if (!variables.ok()) {
    // Without the context a dependent field cannot be sampled; the templates still compiled.
    return std::vector<std::string>{"not checked against records: " + variables.error().message};
  }
  auto cached = cache_.get(field.source, *variables, mapping.cache_ttl, mapping.snapshot);
  if (!cached.ok()) {
    return std::vector<std::string>{"not checked against records: " + cached.error().message};
  }
  return check_field(field, cached->records.get());
}

}  // namespace extdata::fields
