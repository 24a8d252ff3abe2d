#pragma once
// What the API knows about sql sources beyond a source like any other: the database explorer
// behind the wizard's table and column pickers (like sharepoint_routes.h for SharePoint), and
// the placeholder query that lets the wizard list tables before the query is written.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "sources/source.h"

namespace extdata::api::sql {

// The draft steps "sql/tables" and "sql/columns" only need the connection: an sql spec
// without a query gets a placeholder (and no declared variables, which it would not use).
void fill_draft_placeholders(nlohmann::json& spec, std::string_view step);

// {"tables": [{schema?, name, type}]} the source's user sees; errors of the source.
Result<nlohmann::json> tables(sources::Source& source);
// {"table", "from", "columns": [{name, type, nullable?, sql}], "query"}: the columns of
// `table` ("schema.table" or "table") and the query that selects them all.
Result<nlohmann::json> columns(sources::Source& source, const std::string& table);
// The `table` of a request: required, one line of text (sql.bad_table).
Result<std::string> table_argument(const std::optional<std::string>& table);

}  // namespace extdata::api::sql
