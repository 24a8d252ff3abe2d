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

// The wizard's explorer: {"table", "columns": list_columns' rows each with "sql" (its name as
// written in the source's dialect, quote_identifier), "from" (the table so written, from
// "schema.table" or "table"), "query": SELECT every column FROM the table}. Names are quoted,
// never parsed as SQL; a table without visible columns is "sql.unknown_relation".
Result<nlohmann::json> describe_table(Source& source, const std::string& table);

}  // namespace extdata::sources::sql
