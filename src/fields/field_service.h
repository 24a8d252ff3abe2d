#pragma once
// FieldService: the options and values of configured fields.
//
//   FieldService fields(store, source_lookup, record_cache);
//   auto result = fields.options("city", {.q = "be", .limit = 20, .context = {{"country", "DE"}}});
//   std::string body = to_json(*result);  // {"options":[{"value","label","data"}],"total",...}
//   auto v = fields.value("city", "42", context);  // found?, label, data
//
// A request resolves the field's `variables` templates against the context (the values of
// other fields, e.g. {country}) into the source variables; the RecordCache holds one record
// set per source + variables; the field's OptionsTable (filter, sort, value/label texts and
// the search index) is built once per record set and reused until the records change; after a
// delta sync that says which records changed, the previous table is patched instead
// (OptionsTable::patch; extdata_fields_tables_patched_total / _rebuilt_total{reason}).
//
// Field definitions are read from the store once and compiled; call invalidate_field(name)
// when a field is saved or deleted (reload() forgets all of them).
//
// Errors (the HTTP layer maps them to 4xx): field.not_found (404), source.not_found (404),
// field.bad_limit, field.bad_offset, field.bad_context, field.bad_template, field.bad_filter
// (400); a fetch failure with nothing cached returns the source's Error (502).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/record_cache.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "fields/options.h"
#include "fields/rendered_options.h"
#include "store/store.h"

namespace extdata::fields {

// Request context: other fields' values and caller keys ("country" → "DE").
using Context = std::map<std::string, std::string, std::less<>>;

struct OptionsQuery {
  std::string q;
  std::int64_t offset = 0;
  std::optional<std::int64_t> limit;  // absent: the field's default
  Context context;
};

struct Option {
  std::string value;
  std::string label;
  std::string data;  // the record as minified JSON text
};

struct OptionsResult {
  std::vector<Option> options;
  size_t total = 0;  // matches of q, regardless of offset and limit
  bool stale = false;
  std::int64_t fetched_at = 0;  // unix seconds
  double age_seconds = 0;
  std::vector<std::string> warnings;
  std::optional<Error> error;  // why stale data is served, when a refresh failed
};

struct ValueResult {
  bool found = false;  // false: the key no longer exists upstream (or the filter drops it)
  std::string value;
  std::string label;
  std::string data;  // minified JSON text; empty when not found
  bool stale = false;
  std::int64_t fetched_at = 0;
  double age_seconds = 0;
  std::optional<Error> error;
};

// {"options":[{"value":"..","label":"..","data":{..}}],"total":N,"stale":false,
//  "fetched_at":"2026-11-28T15:04:05Z","age_seconds":12[,"warnings":[..]][,"error":{..}]}
std::string to_json(const OptionsResult& result);
void append_json(std::string& out, const OptionsResult& result);
// {"found":true,"value":"..","label":"..","data":{..},"stale":false,"fetched_at":..,"age_seconds":..}
// (not found: "label" and "data" are null and "message" says the key no longer exists upstream)
std::string to_json(const ValueResult& result);

// A context sent as a JSON object of strings (numbers and booleans are taken as their text).
// Error "field.bad_context" for anything else.
Result<Context> parse_context_json(std::string_view text);
// The same from a parsed body (its depth already bounded by parse_request_json).
Result<Context> context_from_json(const nlohmann::json& parsed);

// Budget of the rendered options pages kept for repeated queries (see RenderedOptions).
inline constexpr size_t kDefaultRenderedOptionsBytes = 64u << 20;

class FieldService {
 public:
  FieldService(store::Store& store, cache::SourceLookup sources, cache::RecordCache& cache,
               Metrics& metrics = Metrics::global(),
               size_t rendered_options_bytes = kDefaultRenderedOptionsBytes);

  Result<OptionsResult> options(const std::string& field, const OptionsQuery& query);
  // The same answer as to_json(options(...)), for the HTTP API: repeated queries over the same
  // records reuse the rendered options text (freshness is written per request).
  Result<std::string> options_json(const std::string& field, const OptionsQuery& query);
  // options_json() when the answer needs no waiting (field compiled, records and their options
  // table in memory), so a network thread can answer it inline; nullopt otherwise.
  std::optional<Result<std::string>> options_json_if_ready(const std::string& field,
                                                           const OptionsQuery& query);
  Result<ValueResult> value(const std::string& field, const std::string& key,
                            const Context& context);

  // The flat array Jira Forms data connections read: [{"id": value, "value": label, …the
  // field's declared data columns}] — every option in field order, or the matches of q (and
  // at most `limit`) when given. A data column named "id" or "value" is left out (the two
  // keys are the option's own). Refused with field.array_too_large (400) instead of writing
  // more than `max_bytes`.
  Result<std::string> options_array_json(const std::string& field, const OptionsQuery& query,
                                         size_t max_bytes);
  // Every option of the field in field order (value, label, data), for targets.
  Result<OptionsResult> all_options(const std::string& field, const Context& context = {});

  // Save-time check: fetches sample records through the cache (with `context` for the
  // variables) and lists the templates' names that no record has (see check_field).
  Result<std::vector<std::string>> check(const config::FieldConfig& field,
                                         const Context& context = {});

  // The source variables a request resolves to (exposed for the API's diagnostics).
  Result<sources::Variables> resolve_variables(const std::string& field, const Context& context);

  // Option tables of record sets with at least this many records are stored beside their
  // snapshot (cache::RecordCache::save_derived) and loaded from there after a restart instead
  // of being rebuilt (docs/fields.md, "Restart"). Below it, building is quicker than storing.
  void set_store_tables_from(size_t records) { store_tables_from_ = records; }
  static constexpr size_t kDefaultStoreTablesFrom = 20000;

  void invalidate_field(const std::string& name);
  void reload();
  // Forgets the fields whose stored definition changed or vanished (another process applied
  // a config); the others keep their built options tables.
  void reload_changed();

 private:
  struct CompiledField {
    FieldMapping mapping;
    std::string tag;         // derived-data tag: "name#generation"
    std::string definition;  // source + spec as stored, to notice a change
    std::string version;     // what a stored table must have been built from: image format +
                             // the definition's hash
  };
  struct Resolved {
    std::shared_ptr<const CompiledField> field;
    cache::CachedRecords cached;
    std::shared_ptr<const OptionsTable> table;
    std::uint64_t table_id = 0;  // unique per built table: keys its rendered pages

    void set_table(const std::shared_ptr<const void>& built);  // from the derived data
    OptionsResult freshness() const;
  };
  Result<std::shared_ptr<const CompiledField>> compiled(const std::string& name);
  Result<Resolved> resolve(const std::string& name, const Context& context);
  // The field's table over `cached`'s records: the stored image when one was saved for these
  // records and this definition, else built (and then stored, for big record sets).
  struct Table {
    OptionsTable table;
    bool to_store = false;  // built now and worth storing
  };
  Result<Table> load_or_build_table(const CompiledField& field, const cache::CachedRecords& cached);
  // After an incremental sync: the previous records' table patched with the changes
  // (OptionsTable::patch), stored like a built one; null when there is none to patch or the
  // patch is declined (counted with its reason; the caller builds).
  std::shared_ptr<const void> patch_table(const CompiledField& field,
                                          const cache::CachedRecords& cached);
  // Before the records of a key are in memory (a restart): the table stored for its snapshot,
  // read once and kept in early_ while the records load in the background; nullopt when there
  // is none (the field declares data columns, nothing stored, the records are in memory).
  std::optional<Resolved> resolve_early(const std::shared_ptr<const CompiledField>& field,
                                        const sources::Variables& variables);
  struct Early;
  std::optional<Early> read_early(const CompiledField& field, const sources::Variables& variables);
  // Once the records are in memory: the early table, when built for exactly these records.
  std::shared_ptr<const void> adopt_early(const CompiledField& field,
                                          const cache::CachedRecords& cached);
  void drop_early(const std::string& tag_prefix);
  void count_loaded(const std::string& field);
  void count_rejected(const std::string& field, const Error& error);
  void store_table(const CompiledField& field, const cache::CachedRecords& cached,
                   const std::shared_ptr<const void>& built);
  std::string render_options(const Resolved& resolved, const OptionsQuery& query);

  store::Store& store_;
  cache::SourceLookup sources_;
  cache::RecordCache& cache_;
  Metrics& metrics_;
  size_t store_tables_from_ = kDefaultStoreTablesFrom;

  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CompiledField>> fields_;
  std::uint64_t generation_ = 0;
  std::atomic<std::uint64_t> next_table_id_{1};
  struct Early {
    cache::CachedRecords stamp;  // the stored snapshot's description (no records)
    std::shared_ptr<const void> built;
  };
  std::mutex early_mu_;
  std::map<std::string, Early> early_;  // field tag + '\n' + cache key
  std::set<std::string> settled_;       // slots whose stored table was read or is missing
  static constexpr size_t kMaxSettled = 10000;
  RenderedOptions rendered_;
};

}  // namespace extdata::fields
