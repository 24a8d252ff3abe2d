#pragma once
// The shared store: PostgreSQL through libpq, for several extdata instances on one truth
// (docs/postgresql-store.md).
//
//   auto store = open_postgres_store("postgresql://extdata@db.example:5432/extdata", {});
//
// Same contract as the SQLite store (store.h): numbered migrations (in schema_version, run
// under an advisory lock so that instances starting together migrate once), secrets sealed
// with the master key and a key check beside them, versions from one sequence, Expect checks
// and writes of configuration in one transaction serialised by a transaction advisory lock,
// snapshots as bytea rows (one per piece) written in one transaction.
//
// Connections: at most `max_connections` for statements, plus one that LISTENs. Every
// committing write of what a server holds in memory (sources, fields, targets, apply, user
// grants) sends NOTIFY extdata_changes with this store's instance id in the same transaction;
// external_change_count() counts the notifications of other instances (read without
// blocking), and counts one more after the listening connection was lost (what happened
// meanwhile is unknown). Snapshots, status, leases and the shared token cache are read from
// the store when needed and notify nobody: one instance's sync does not make the others
// re-read their configuration. A connection that broke is dropped and the next call opens
// a new one; a call while the server is away returns store.unavailable naming the server.
//
// The master key never comes from the data directory here unless `key_file` says so: it is
// EXTDATA_MASTER_KEY, EXTDATA_MASTER_KEY_FILE or systemd's credential (secret_box.h); none
// of them → store.master_key_missing. A store created with another key → store.master_key.
#include <memory>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace extdata::store {

struct PostgresOptions {
  size_t max_connections = 4;
  // Snapshots are stored in bytea rows of at most this size (PostgreSQL caps one at 1 GB).
  size_t snapshot_chunk_bytes = 64u << 20;
  // A key file to use when the key comes from none of the operator's sources (store migrate
  // uses the SQLite data directory's master.key); never created.
  std::string key_file;
  // Names this store's writes in notifications; empty: host, process id and random.
  std::string instance_id;
};

// Errors: store.url, store.url_password, store.password_file, store.unavailable,
// store.master_key(_missing), store.version, store.postgres.
Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                   const PostgresOptions& options);

// `extdata store migrate`: copies the whole store of an SQLite data directory (sources,
// fields, targets and their state, sealed secrets as they are, tokens' hashes, snapshots,
// status, grants, pending sign-ins, the version counter) into an empty PostgreSQL store in one
// transaction. The PostgreSQL store must use the data directory's master key (checked by the
// key check); a target that holds anything is refused (store.migrate_not_empty).
struct MigrateReport {
  std::size_t sources = 0, fields = 0, targets = 0, secrets = 0, tokens = 0, snapshots = 0,
              snapshot_bytes = 0, statuses = 0, grants = 0;
};
Result<MigrateReport> migrate_sqlite_to_postgres(const std::string& data_dir,
                                                 const std::string& url);

}  // namespace extdata::store
