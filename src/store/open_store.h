#pragma once
// One place that chooses the store: a PostgreSQL URL (--store / EXTDATA_STORE) or, by
// default, the SQLite store in the data directory.
#include <memory>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace extdata::store {

// --store's value, else $EXTDATA_STORE, else empty (SQLite in the data directory).
std::string resolve_store_url(const std::string& flag_value);

struct StoreChoice {
  std::string url;       // resolve_store_url(); empty: SQLite
  std::string data_dir;  // resolve_data_dir(); SQLite's directory
  // SQLite only: create the store when there is none (init, apply); otherwise a directory
  // without extdata.db is store.not_found. A PostgreSQL store is always migrated on open.
  bool create = false;
};
Result<std::unique_ptr<Store>> open_store(const StoreChoice& choice);

// What the store is, for messages: the data directory, or host:port/db of the URL.
std::string describe_store(const StoreChoice& choice);

}  // namespace extdata::store
