#include "store/sqlite/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "store/secret_box.h"

namespace extdata::store {

namespace {

namespace fs = std::filesystem;

constexpr const char* kStoreFile = "/extdata.db";

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, Closer>;

Error sqlite_error(sqlite3* db, const std::string& what) {
  return Error("store.sqlite", what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

Result<Db> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_FULLMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, "cannot open " + path);
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

// The first column of the first row of `sql`, or "" when there is no row (or no such table).
std::string scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  return out;
}

std::size_t count(sqlite3* db, const char* table) {
  const std::string sql = std::string("SELECT count(*) FROM ") + table;
  return static_cast<std::size_t>(std::strtoull(scalar(db, sql.c_str()).c_str(), nullptr, 10));
}

// Copies every page of `from` into `to` in one step (one read transaction: a consistent copy).
Status copy_pages(sqlite3* from, sqlite3* to) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (!backup) return sqlite_error(to, "cannot start the copy");
  int rc;
  do {
    rc = sqlite3_backup_step(backup, -1);
  } while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return sqlite_error(to, "the copy failed");
  return ok_status();
}

Status check_integrity(sqlite3* db, const std::string& file) {
  const std::string verdict = scalar(db, "PRAGMA integrity_check");
  if (verdict != "ok")
    return Error("store.backup",
                 file + " is damaged: " + (verdict.empty() ? "unreadable" : verdict),
                 "use another backup");
  return ok_status();
}

BackupReport report_of(sqlite3* db, const std::string& file) {
  BackupReport r;
  r.file = file;
  std::error_code ec;
  r.bytes = static_cast<std::size_t>(fs::file_size(file, ec));
  r.sources = count(db, "sources");
  r.fields = count(db, "fields");
  r.tokens = count(db, "api_tokens");
  r.secrets = count(db, "secrets");
  r.snapshots = count(db, "snapshots");
  return r;
}

// Copies `from` into a new file `target` (temporary name, 0600, checked, renamed).
Result<BackupReport> write_copy(sqlite3* from, const std::string& target, bool overwrite) {
  std::error_code ec;
  if (!overwrite && fs::exists(target, ec))
    return Error("store.backup_exists", target + " exists already",
                 "name a new file, or pass --force to replace it");
  const std::string tmp = target + ".partial";
  fs::remove(tmp, ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error("store.backup", "cannot create " + tmp + ": " + std::strerror(errno),
                 "check that the directory exists and is writable");
  ::close(fd);
  auto fail = [&](Error e) -> Result<BackupReport> {
    fs::remove(tmp, ec);
    return e;
  };
  {
    auto to = open_db(tmp, SQLITE_OPEN_READWRITE);
    if (!to.ok()) return fail(to.error());
    if (auto s = copy_pages(from, to->get()); !s.ok()) return fail(s.error());
    // One self-contained file, whatever mode the source used.
    if (sqlite3_exec(to->get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) !=
        SQLITE_OK)
      return fail(sqlite_error(to->get(), "cannot finish " + tmp));
    if (auto s = check_integrity(to->get(), tmp); !s.ok()) return fail(s.error());
  }
  if (const int sync = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC); sync >= 0) {
    ::fsync(sync);
    ::close(sync);
  }
  fs::rename(tmp, target, ec);
  if (ec)
    return fail(
        Error("store.backup", "cannot rename " + tmp + " to " + target + ": " + ec.message()));
  auto reopened = open_db(target, SQLITE_OPEN_READONLY);
  if (!reopened.ok()) return reopened.error();
  return report_of(reopened->get(), target);
}

// The master key a restore into `data_dir` will use; never a new one.
Result<SecretBox> existing_key(const std::string& data_dir) {
  const std::string key_file = data_dir + "/master.key";
  std::error_code ec;
  if (!SecretBox::key_outside_data_dir() && !fs::exists(key_file, ec)) {
    return Error("store.master_key",
                 "restoring needs the master key the backup was made with, and " + key_file +
                     " does not exist",
                 "copy the original master.key into " + data_dir +
                     " (chmod 600), or name it with EXTDATA_MASTER_KEY_FILE; a new key could not "
                     "open the backup's secrets");
  }
  return SecretBox::open(key_file);
}

}  // namespace

Result<BackupReport> backup_store(const std::string& data_dir, const std::string& file,
                                  const BackupOptions& options) {
  const std::string path = data_dir + kStoreFile;
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Error("store.not_found", "no store in " + data_dir + " (" + path + " does not exist)",
                 "name the data directory of the store to back up with --data or EXTDATA_DATA");
  // Read-write without create: a WAL database's reader may need to write the -shm index.
  EXTDATA_ASSIGN_OR_RETURN(Db from, open_db(path, SQLITE_OPEN_READWRITE));
  return write_copy(from.get(), file, options.overwrite);
}

Result<BackupReport> restore_store(const std::string& file, const std::string& data_dir) {
  std::error_code ec;
  const std::string target = data_dir + kStoreFile;
  if (fs::exists(target, ec))
    return Error("store.restore_not_empty", data_dir + " has a store already (" + target + ")",
                 "restore into a new, empty data directory; the existing store is left as it is");
  if (!fs::exists(file, ec))
    return Error("store.backup", "no backup file " + file, "name the file `extdata backup` wrote");
  EXTDATA_ASSIGN_OR_RETURN(Db from, open_db(file, SQLITE_OPEN_READONLY));
  EXTDATA_TRY(check_integrity(from.get(), file));
  const std::string stored_check =
      scalar(from.get(), "SELECT value FROM meta WHERE key='key_check'");
  if (stored_check.empty())
    return Error("store.backup", file + " is not an extdata backup (it has no key check)",
                 "name the file `extdata backup` wrote");
  fs::create_directories(data_dir, ec);
  ::chmod(data_dir.c_str(), 0700);
  EXTDATA_ASSIGN_OR_RETURN(SecretBox box, existing_key(data_dir));
  if (box.key_check() != stored_check)
    return Error("store.backup_key_mismatch",
                 file + " was made with another master key than the one for " + data_dir,
                 "use the master.key (or EXTDATA_MASTER_KEY) of the installation the backup "
                 "comes from; nothing was restored");
  return write_copy(from.get(), target, false);
}

}  // namespace extdata::store
