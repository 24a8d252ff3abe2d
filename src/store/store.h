#pragma once
// The Store seam: configuration (sources, fields), API tokens, record snapshots
// and per-source status. SQLite implements it (sqlite/); PostgreSQL can follow.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace extdata::store {

struct ApiToken {
  std::string id;    // public identifier shown in lists
  std::string role;  // admin | reader
  std::string label;
  std::int64_t created_at = 0;  // unix seconds
};

struct Snapshot {
  std::string key;  // source + resolved variables
  std::string source;
  std::string payload;          // serialized record set
  std::int64_t fetched_at = 0;  // unix seconds
  std::size_t records = 0;
};

struct SourceStatus {
  std::string source;
  std::int64_t last_fetch_at = 0;
  std::int64_t last_success_at = 0;
  std::size_t records = 0;
  std::string last_error;  // plain words; empty when the last fetch worked
  std::string last_error_hint;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::vector<config::SourceConfig>> list_sources() = 0;
  virtual Result<std::optional<config::SourceConfig>> get_source(const std::string& name) = 0;
  virtual Status put_source(const config::SourceConfig& source) = 0;
  // Fails with store.in_use when fields still use the source.
  virtual Result<bool> delete_source(const std::string& name) = 0;

  virtual Result<std::vector<config::FieldConfig>> list_fields() = 0;
  virtual Result<std::optional<config::FieldConfig>> get_field(const std::string& name) = 0;
  virtual Status put_field(const config::FieldConfig& field) = 0;
  virtual Result<bool> delete_field(const std::string& name) = 0;

  // Creates or updates everything in one transaction: all or nothing.
  virtual Status apply(const config::ConfigFile& file) = 0;

  // API tokens are stored as SHA-256 hashes; the secret is returned once.
  virtual Result<std::string> create_token(const std::string& role, const std::string& label,
                                           std::int64_t now) = 0;
  virtual Result<std::optional<ApiToken>> find_token(const std::string& secret) = 0;
  virtual Result<std::vector<ApiToken>> list_tokens() = 0;
  virtual Result<bool> delete_token(const std::string& id) = 0;

  virtual Status put_snapshot(const Snapshot& snapshot) = 0;
  virtual Result<std::optional<Snapshot>> get_snapshot(const std::string& key) = 0;
  // The number of snapshots stored for `source`.
  virtual Result<size_t> count_snapshots(const std::string& source) = 0;
  // Deletes the oldest snapshots of `source` (by fetched_at) beyond the newest `keep`;
  // returns how many were deleted.
  virtual Result<size_t> trim_snapshots(const std::string& source, size_t keep) = 0;

  virtual Status put_status(const SourceStatus& status) = 0;
  virtual Result<std::optional<SourceStatus>> get_status(const std::string& source) = 0;

  // Changes whenever another process (another connection) committed to the store, e.g.
  // `extdata apply` while `extdata serve` runs; writes through this Store do not change it.
  // Lets a server keep built sources and fields in memory and re-read only after a change.
  virtual Result<std::int64_t> external_change_count() = 0;
};

// Opens (creating when needed) the embedded store in `data_dir`: extdata.db (WAL) and,
// unless EXTDATA_MASTER_KEY is set, master.key (0600).
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir);

struct SqliteOptions {
  // Snapshots are stored in pieces of this size: SQLite caps one value at 1 GB.
  size_t snapshot_chunk_bytes = 256u << 20;
};
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& data_dir,
                                                 const SqliteOptions& options);

// The data directory: --data, else $EXTDATA_DATA, else ./extdata-data.
std::string resolve_data_dir(const std::string& flag_value);

}  // namespace extdata::store
