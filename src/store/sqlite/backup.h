#pragma once
// Backup and restore of a data directory's SQLite store (docs/operations.md).
//
//   backup_store("/var/lib/extdata", "/var/backups/extdata/2026-12-01.db", {});
//   restore_store("/var/backups/extdata/2026-12-01.db", "/var/lib/extdata-new", {});
//
// A backup is one SQLite file: sources, fields, sealed secrets, API tokens' hashes, record
// snapshots and sources' status, copied with SQLite's online backup API in one read
// transaction, so it is consistent while a server keeps writing. It never holds the master
// key (a file of its own): the key is backed up separately, once, and a backup is useless
// without it. The file is written under a temporary name, checked (PRAGMA integrity_check),
// made 0600 and renamed into place; an existing file is replaced only when asked.
//
// Restore writes a backup into a data directory that has no store yet, after checking that
// the backup passes the integrity check and was made with the master key the data directory
// will use (EXTDATA_MASTER_KEY or DATA/master.key, which must exist: restore never makes a
// new key). Nothing is written when a check fails.
#include <string>

#include "core/error.h"

namespace extdata::store {

struct BackupOptions {
  bool overwrite = false;  // replace an existing backup file
};

struct BackupReport {
  std::string file;
  std::size_t bytes = 0;
  std::size_t sources = 0, fields = 0, secrets = 0, tokens = 0, snapshots = 0;
};

// Errors: store.not_found (no store in data_dir), store.backup_exists, store.backup (I/O,
// integrity), store.sqlite.
Result<BackupReport> backup_store(const std::string& data_dir, const std::string& file,
                                  const BackupOptions& options);

// Errors: store.restore_not_empty (data_dir has a store), store.master_key (no key to restore
// with), store.backup_key_mismatch (made with another key), store.backup (not a backup,
// damaged), store.sqlite.
Result<BackupReport> restore_store(const std::string& file, const std::string& data_dir);

}  // namespace extdata::store
