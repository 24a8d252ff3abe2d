#pragma once
// Incremental sync for REST APIs that can list what changed since a point (`incremental:` of a
// rest source, docs/rest.md "Incremental sync"): the first sync reads everything; later ones send
// the cursor of the last in `since_param` and merge the changed records into the last records by
// `key` (sources/common/merge_changes.h). The cursor is read from the response (`cursor`, e.g. a
// sync token) or is the greatest value of a record member (`cursor_max`, e.g. updated_at).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/record_set.h"
#include "sources/common/merge_changes.h"

namespace extdata::sources::rest {

// What a sync leaves for the next one: SyncReport::cursor / SyncBase::cursor, as JSON text.
struct SyncCursor {
  std::string since;         // sent in since_param
  std::int64_t full_at = 0;  // unix seconds of the last full sync (for full_every)

  std::string encode() const;
  // nullopt: not a cursor this version wrote (the next sync is full).
  static std::optional<SyncCursor> decode(const std::string& text);
};

class IncrementalSync {
 public:
  // The `incremental` object of a rest source's spec; nullopt when there is none. Errors name
  // the key (incremental.key, incremental.cursor …).
  static Result<std::optional<IncrementalSync>> compile(const nlohmann::json& spec);

  const std::string& since_param() const { return since_param_; }
  std::optional<double> full_every() const { return full_every_; }
  // Keys by `key`'s display text; removals where `deleted` selects neither false nor null.
  const ChangeRules& rules() const { return rules_; }

  // The cursor after reading `records` (every record of a full sync, or the changes of an
  // incremental one) whose last page `last_page` (its root, when JSON) came last. `previous`:
  // the cursor value before them ("" for a full sync); with cursor_max it is kept when no record
  // has a greater value, with `cursor` when the response names none. nullopt: no cursor at all.
  std::optional<std::string> next_since(const extract::RecordSet& records,
                                        const std::optional<simdjson::dom::element>& last_page,
                                        const std::string& previous) const;

 private:
  std::string since_param_;
  std::optional<extract::JsonPath> cursor_;      // over the last page's response
  std::optional<extract::JsonPath> cursor_max_;  // over each record
  std::optional<double> full_every_;             // seconds
  ChangeRules rules_;
};

}  // namespace extdata::sources::rest
