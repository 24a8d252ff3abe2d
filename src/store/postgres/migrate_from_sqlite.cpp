// `extdata store migrate`: an SQLite data directory into an empty PostgreSQL store
// (postgres_store.h).
#include <sqlite3.h>

#include <filesystem>
#include <functional>

#include "store/postgres/pg.h"
#include "store/postgres/postgres_store.h"
#include "store/secret_box.h"

namespace extdata::store {

namespace {

using pg::Params;
using pg::Rows;

// A read-only view of the SQLite store, inside one read transaction (a consistent copy even
// while a server writes).
class SqliteReader {
 public:
  ~SqliteReader() {
    if (db_) {
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close(db_);
    }
  }
  Status open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
      return failed("cannot open " + path);
    return ok_status();
  }
  // Calls `row` for each row of `sql` with the statement positioned on it.
  Status each(const char* sql, const std::function<Status(sqlite3_stmt*)>& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
      return failed(std::string("cannot read ") + sql);
    int rc;
    Status outcome = ok_status();
    while (outcome.ok() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) outcome = row(stmt);
    if (outcome.ok() && rc != SQLITE_DONE) outcome = failed(std::string("cannot read ") + sql);
    sqlite3_finalize(stmt);
    return outcome;
  }
  static std::string_view col(sqlite3_stmt* stmt, int i) {
    const void* p = sqlite3_column_blob(stmt, i);
    return p ? std::string_view(static_cast<const char*>(p),
                                static_cast<size_t>(sqlite3_column_bytes(stmt, i)))
             : std::string_view();
  }
  static std::string text(sqlite3_stmt* stmt, int i) { return std::string(col(stmt, i)); }
  static std::int64_t integer(sqlite3_stmt* stmt, int i) { return sqlite3_column_int64(stmt, i); }

 private:
  Error failed(const std::string& what) {
    return Error("store.sqlite", what + ": " + (db_ ? sqlite3_errmsg(db_) : "no database"),
                 "Check the data directory (--data).");
  }
  sqlite3* db_ = nullptr;
};

using R = SqliteReader;

// Copies one table: `select` from SQLite, each row's columns bound in order to `insert`;
// `bytes` says which columns are binary. Returns the number of rows.
Result<size_t> copy_table(R& from, pg::Connection& to, const char* select, const char* insert,
                          std::vector<char> kinds /* 't' text, 'i' integer, 'b' bytes */) {
  size_t rows = 0;
  EXTDATA_TRY(from.each(select, [&](sqlite3_stmt* s) -> Status {
    Params params;
    for (size_t i = 0; i < kinds.size(); ++i) {
      const int c = static_cast<int>(i);
      if (kinds[i] == 'i')
        params.integer(R::integer(s, c));
      else if (kinds[i] == 'b')
        params.bytes_in_place(R::col(s, c));
      else
        params.text(R::text(s, c));
    }
    EXTDATA_TRY(to.exec(insert, params));
    ++rows;
    return ok_status();
  }));
  return rows;
}

Status refuse_non_empty(pg::Connection& to, const std::string& url) {
  EXTDATA_ASSIGN_OR_RETURN(
      Rows rows,
      to.exec("SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM fields) + "
              "(SELECT count(*) FROM targets) + (SELECT count(*) FROM api_tokens) + "
              "(SELECT count(*) FROM snapshots) + (SELECT count(*) FROM source_status) + "
              "(SELECT count(*) FROM user_grants) + (SELECT count(*) FROM secrets)"));
  if (rows.integer(0, 0) == 0) return ok_status();
  return Error("store.migrate_not_empty",
               "the PostgreSQL store " + url +
                   " holds data already; migrate copies into an "
                   "empty store only",
               "Create an empty database (createdb) and migrate into that, or keep using the "
               "store as it is.");
}

Status copy_everything(R& from, pg::Connection& to, MigrateReport& report) {
  EXTDATA_ASSIGN_OR_RETURN(
      report.sources,
      copy_table(from, to, "SELECT name, type, spec, updated_at, version FROM sources",
                 "INSERT INTO sources(name, type, spec, updated_at, version) "
                 "VALUES($1,$2,$3,$4,$5)",
                 {'t', 't', 't', 'i', 'i'}));
  EXTDATA_ASSIGN_OR_RETURN(
      report.fields,
      copy_table(from, to, "SELECT name, source, spec, updated_at, version FROM fields",
                 "INSERT INTO fields(name, source, spec, updated_at, version) "
                 "VALUES($1,$2,$3,$4,$5)",
                 {'t', 't', 't', 'i', 'i'}));
  // Sealed as they are: the PostgreSQL store uses the same master key (checked before).
  EXTDATA_ASSIGN_OR_RETURN(
      report.secrets,
      copy_table(from, to, "SELECT owner, pointer, sealed FROM secrets",
                 "INSERT INTO secrets(owner, pointer, sealed) VALUES($1,$2,$3)", {'t', 't', 'b'}));
  EXTDATA_ASSIGN_OR_RETURN(report.targets,
                           copy_table(from, to, "SELECT name, type, spec, updated_at FROM targets",
                                      "INSERT INTO targets(name, type, spec, updated_at) "
                                      "VALUES($1,$2,$3,$4)",
                                      {'t', 't', 't', 'i'}));
  EXTDATA_TRY(copy_table(from, to, "SELECT name, state FROM target_state",
                         "INSERT INTO target_state(name, state) VALUES($1,$2)", {'t', 't'}));
  EXTDATA_ASSIGN_OR_RETURN(
      report.tokens,
      copy_table(from, to, "SELECT id, hash, role, label, created_at FROM api_tokens",
                 "INSERT INTO api_tokens(id, hash, role, label, created_at) "
                 "VALUES($1,$2,$3,$4,$5)",
                 {'t', 't', 't', 't', 'i'}));
  EXTDATA_ASSIGN_OR_RETURN(
      report.snapshots,
      copy_table(from, to, "SELECT key, source, fetched_at, records, cursor FROM snapshots",
                 "INSERT INTO snapshots(key, source, fetched_at, records, cursor) "
                 "VALUES($1,$2,$3,$4,$5)",
                 {'t', 't', 'i', 'i', 't'}));
  // SQLite keeps a snapshot's first chunk in the row and the rest in snapshot_chunks (seq 1…):
  // here all are pieces, the first one seq 0.
  for (const char* select : {"SELECT key, 0, payload FROM snapshots WHERE length(payload) > 0",
                             "SELECT key, seq, data FROM snapshot_chunks ORDER BY key, seq"}) {
    EXTDATA_TRY(from.each(select, [&](sqlite3_stmt* s) -> Status {
      const std::string_view data = R::col(s, 2);
      report.snapshot_bytes += data.size();
      EXTDATA_TRY(
          to.exec("INSERT INTO snapshot_pieces(key, seq, data) VALUES($1,$2,$3)",
                  Params().text(R::text(s, 0)).integer(R::integer(s, 1)).bytes_in_place(data)));
      return ok_status();
    }));
  }
  EXTDATA_ASSIGN_OR_RETURN(
      report.statuses,
      copy_table(from, to,
                 "SELECT source, last_fetch_at, last_success_at, records, last_error, "
                 "last_error_hint, sync FROM source_status",
                 "INSERT INTO source_status(source, last_fetch_at, last_success_at, records, "
                 "last_error, last_error_hint, sync) VALUES($1,$2,$3,$4,$5,$6,$7)",
                 {'t', 'i', 'i', 'i', 't', 't', 't'}));
  EXTDATA_ASSIGN_OR_RETURN(
      report.grants,
      copy_table(from, to, "SELECT source, sealed, generation FROM user_grants",
                 "INSERT INTO user_grants(source, sealed, generation) VALUES($1,$2,$3)",
                 {'t', 'b', 'i'}));
  EXTDATA_TRY(copy_table(from, to, "SELECT state, sealed, created_at FROM pending_sign_ins",
                         "INSERT INTO pending_sign_ins(state, sealed, created_at) "
                         "VALUES($1,$2,$3)",
                         {'t', 'b', 'i'}));
  // Versions go on from where SQLite's counter stopped: an ETag never names two versions.
  std::int64_t revision = 0;
  EXTDATA_TRY(from.each("SELECT CAST(value AS INTEGER) FROM meta WHERE key='revision'",
                        [&](sqlite3_stmt* s) {
                          revision = R::integer(s, 0);
                          return ok_status();
                        }));
  if (revision > 0)
    EXTDATA_TRY(to.exec("SELECT setval('revision', $1)", Params().integer(revision)));
  return ok_status();
}

}  // namespace

Result<MigrateReport> migrate_sqlite_to_postgres(const std::string& data_dir,
                                                 const std::string& url) {
  std::error_code ec;
  const std::string db = data_dir + "/extdata.db";
  if (!std::filesystem::exists(db, ec))
    return Error("store.not_found", "there is no extdata store in " + data_dir,
                 "Pass --data DIR (or set EXTDATA_DATA) to the data directory to migrate.")
        .with("data_dir", data_dir);
  // Both opened as a server would: SQLite migrated to its newest schema, its key checked; the
  // PostgreSQL store migrated and its key check made with the same key (or refused).
  { EXTDATA_ASSIGN_OR_RETURN(auto sqlite, open_sqlite_store(data_dir)); }
  {
    EXTDATA_ASSIGN_OR_RETURN(auto postgres,
                             open_postgres_store(url, {.key_file = data_dir + "/master.key"}));
  }
  EXTDATA_ASSIGN_OR_RETURN(pg::Target target, pg::parse_target(url));
  EXTDATA_ASSIGN_OR_RETURN(auto to, pg::connect(target));
  R from;
  EXTDATA_TRY(from.open(db));
  MigrateReport report;
  EXTDATA_TRY(to->run("BEGIN"));
  Status copied = [&]() -> Status {
    EXTDATA_TRY(to->exec("SELECT pg_advisory_xact_lock(hashtext('extdata.config'))"));
    EXTDATA_TRY(refuse_non_empty(*to, "postgresql://" + target.label));
    EXTDATA_TRY(copy_everything(from, *to, report));
    EXTDATA_TRY(to->exec("SELECT pg_notify('extdata_changes', 'store migrate')"));
    return ok_status();
  }();
  if (!copied.ok()) {
    if (!to->broken()) (void)to->run("ROLLBACK");  // nothing of it stays
    return std::move(copied).error();
  }
  EXTDATA_TRY(to->run("COMMIT"));
  return report;
}

}  // namespace extdata::store
