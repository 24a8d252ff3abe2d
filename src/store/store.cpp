#include "store/store.h"

#include <algorithm>

namespace extdata::store {

bool Expect::allows(const std::optional<std::string>& current) const {
  switch (kind) {
    case Kind::any:
      return true;
    case Kind::absent:
      return !current;
    case Kind::present:
      return current.has_value();
    case Kind::one_of:
      return current && std::find(versions.begin(), versions.end(), *current) != versions.end();
  }
  return false;
}

Status check_expected(std::string_view kind, const std::string& name,
                      const std::optional<std::string>& current, const Expect& expect) {
  if (expect.allows(current)) return ok_status();
  const std::string what = std::string(kind) + " '" + name + "'";
  if (!current)
    return Error("store.version_mismatch", what + " no longer exists (someone deleted it)",
                 "Reload to see the current " + std::string(kind) +
                     "s; save it as new to create "
                     "it again.");
  Error e = expect.kind == Expect::Kind::absent
                ? Error("store.exists", what + " exists already",
                        "Open the existing " + std::string(kind) +
                            " to change it, or choose "
                            "another name.")
                : Error("store.version_mismatch",
                        what + " was changed by someone else since you loaded it",
                        "Reload it to see the other change, then make yours again.");
  e.with("current_version", *current);
  return e;
}

std::string_view change_name(Change change) {
  switch (change) {
    case Change::created:
      return "created";
    case Change::updated:
      return "updated";
    case Change::unchanged:
      break;
  }
  return "unchanged";
}

}  // namespace extdata::store
