#pragma once
// Graph's delta query for list items (docs/sharepoint.md, "Delta sync"): the changes since a
// delta link are items (created or changed: the whole item) and tombstones
// ({"id":"3","deleted":{"state":"deleted"}}). apply_delta() turns the last records and the
// changes into the new records (sources/common/merge_changes.h) keyed by the item's id.
#include <optional>
#include <string_view>

#include "core/error.h"
#include "extract/record_set.h"
#include "sources/common/merge_changes.h"

namespace extdata::sources::sharepoint {

// The item's "id" string; nullopt when it has none.
std::optional<std::string_view> item_id(simdjson::dom::element item);
// A tombstone: the item has a "deleted" member.
bool is_tombstone(simdjson::dom::element item);

// `base` with every item whose id appears in `changes` replaced in place by its last version
// there, the tombstoned ones removed and new ids appended (in the order of the changes), as a
// full read would list them. Tombstones of ids the base does not have, and changes without an
// id, are ignored. O(base + changes); no record is copied.
Result<MergedRecords> apply_delta(const extract::RecordSet& base,
                                  const extract::RecordSet& changes);

}  // namespace extdata::sources::sharepoint
