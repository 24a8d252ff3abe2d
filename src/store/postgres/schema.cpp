#include "store/postgres/schema.h"

#include <vector>

#include "store/stored_config.h"

namespace extdata::store::pg {

namespace {

// Each entry is one schema version; never edit a released entry, append a new one.
const std::vector<std::string> kMigrations = {
    // Everything the SQLite store holds after its seventh migration, in PostgreSQL's types:
    // snapshots are rows of pieces (bytea) only; versions come from one sequence.
    R"sql(
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE SEQUENCE revision;
    CREATE TABLE sources (name TEXT PRIMARY KEY, type TEXT NOT NULL, spec TEXT NOT NULL,
                          updated_at BIGINT NOT NULL, version BIGINT NOT NULL);
    CREATE TABLE fields (name TEXT PRIMARY KEY, source TEXT NOT NULL, spec TEXT NOT NULL,
                         updated_at BIGINT NOT NULL, version BIGINT NOT NULL);
    CREATE INDEX fields_by_source ON fields(source);
    CREATE TABLE secrets (owner TEXT NOT NULL, pointer TEXT NOT NULL, sealed BYTEA NOT NULL,
                          PRIMARY KEY (owner, pointer));
    CREATE TABLE targets (name TEXT PRIMARY KEY, type TEXT NOT NULL, spec TEXT NOT NULL,
                          updated_at BIGINT NOT NULL);
    CREATE TABLE target_state (name TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE api_tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                             label TEXT NOT NULL, created_at BIGINT NOT NULL);
    CREATE TABLE snapshots (key TEXT PRIMARY KEY, source TEXT NOT NULL,
                            fetched_at BIGINT NOT NULL, records BIGINT NOT NULL,
                            cursor TEXT NOT NULL DEFAULT '');
    CREATE INDEX snapshots_by_source ON snapshots(source);
    CREATE TABLE snapshot_pieces (key TEXT NOT NULL REFERENCES snapshots(key) ON DELETE CASCADE,
                                  seq BIGINT NOT NULL, data BYTEA NOT NULL,
                                  PRIMARY KEY (key, seq));
    CREATE TABLE source_status (source TEXT PRIMARY KEY, last_fetch_at BIGINT NOT NULL,
                                last_success_at BIGINT NOT NULL, records BIGINT NOT NULL,
                                last_error TEXT NOT NULL, last_error_hint TEXT NOT NULL,
                                sync TEXT NOT NULL DEFAULT '');
    CREATE TABLE user_grants (source TEXT PRIMARY KEY, sealed BYTEA NOT NULL,
                              generation BIGINT NOT NULL);
    CREATE TABLE pending_sign_ins (state TEXT PRIMARY KEY, sealed BYTEA NOT NULL,
                                   created_at BIGINT NOT NULL);
    )sql",
    // Cluster coordination (store.h: Lease, SharedToken), as SQLite's eighth migration.
    R"sql(
    CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,
                         expires_at_ms BIGINT NOT NULL, token BIGINT NOT NULL);
    CREATE TABLE shared_tokens (key TEXT PRIMARY KEY, sealed BYTEA NOT NULL, digest TEXT NOT NULL,
                                expires_at_ms BIGINT NOT NULL);
    )sql",
};

Status migrate_locked(Connection& conn, const std::string& key_check) {
  EXTDATA_TRY(conn.exec("SELECT pg_advisory_xact_lock(hashtext('extdata.migrate'))"));
  EXTDATA_TRY(conn.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  EXTDATA_ASSIGN_OR_RETURN(Rows rows, conn.exec("SELECT max(version) FROM schema_version"));
  const int version = static_cast<int>(rows.integer(0, 0));  // NULL (empty) reads as 0
  if (version > schema_version_known())
    return Error("store.version",
                 "the PostgreSQL store has schema version " + std::to_string(version) +
                     ", newer than this extdata understands (" +
                     std::to_string(schema_version_known()) + ")",
                 "Run a newer extdata on every instance, or point --store at another database.");
  for (int v = version; v < schema_version_known(); ++v) {
    EXTDATA_TRY(conn.run(kMigrations[static_cast<size_t>(v)]));
    EXTDATA_TRY(conn.exec("DELETE FROM schema_version"));
    EXTDATA_TRY(
        conn.exec("INSERT INTO schema_version(version) VALUES($1)", Params().integer(v + 1)));
  }
  // A wrong master key is caught here, before any secret is written with it.
  EXTDATA_ASSIGN_OR_RETURN(Rows stored, conn.exec("SELECT value FROM meta WHERE key='key_check'"));
  if (stored.empty()) {
    EXTDATA_TRY(conn.exec("INSERT INTO meta(key, value) VALUES('key_check', $1)",
                          Params().text(key_check)));
    return ok_status();
  }
  if (stored.text(0, 0) != key_check)
    return stored::wrong_master_key(
        "this PostgreSQL store",
        "Give every instance the key the store was created with (EXTDATA_MASTER_KEY_FILE).");
  return ok_status();
}

}  // namespace

int schema_version_known() {
  return static_cast<int>(kMigrations.size());
}

Status migrate_schema(Connection& conn, const std::string& key_check) {
  EXTDATA_TRY(conn.run("BEGIN"));
  Status s = migrate_locked(conn, key_check);
  if (!s.ok()) {
    if (!conn.broken()) (void)conn.run("ROLLBACK");  // the original error is what matters
    return s;
  }
  return conn.run("COMMIT");
}

}  // namespace extdata::store::pg
