#pragma once
// The PostgreSQL store's schema: its own numbered migrations, recorded in schema_version.
#include <string>

#include "store/postgres/pg.h"

namespace extdata::store::pg {

// The number of migrations this extdata knows.
int schema_version_known();

// Brings the schema up to date in one transaction under an advisory lock (instances starting
// together migrate once), then checks the master key against the stored key check, storing
// it on first use. store.version when the database is newer; store.master_key when the key
// is not the store's.
Status migrate_schema(Connection& conn, const std::string& key_check);

}  // namespace extdata::store::pg
