#pragma once
// `type: sql`: one read-only statement against PostgreSQL, MariaDB/MySQL, SQLite or an ODBC
// data source, its `:name` parameters bound from variables by the driver, one record per row
// (docs/sql.md). Built without connecting: what is wrong with the settings or the query is
// found at validate time. Fetches take a connection from the source's pool (pool.h).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sources/source.h"

namespace extdata::sources::sql {

// `extdata sql tables|columns`: the tables and views the source's user sees, and the columns
// of one ("schema.table" or "table"), as rows of {name, type, ...}. "sql.not_sql" for a source
// of another kind.
Result<nlohmann::json> list_tables(Source& source);
Result<nlohmann::json> list_columns(Source& source, const std::string& table);

}  // namespace extdata::sources::sql
