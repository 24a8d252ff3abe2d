#include "api/sql_routes.h"

#include "sources/sql/sql_source.h"

namespace extdata::api::sql {

void fill_draft_placeholders(nlohmann::json& spec, std::string_view step) {
  if (spec.value("type", "") != "sql") return;
  if (step != "sql/tables" && step != "sql/columns") return;
  if (spec.contains("query") && spec["query"].is_string() &&
      !spec["query"].get<std::string>().empty())
    return;
  spec["query"] = "SELECT 1";
  spec.erase("variables");
}

Result<nlohmann::json> tables(sources::Source& source) {
  EXTDATA_ASSIGN_OR_RETURN(auto found, sources::sql::list_tables(source));
  return nlohmann::json{{"tables", std::move(found)}};
}

Result<nlohmann::json> columns(sources::Source& source, const std::string& table) {
  return sources::sql::describe_table(source, table);
}

Result<std::string> table_argument(const std::optional<std::string>& table) {
  if (!table || table->empty())
    return Error("sql.bad_table", "the table is missing",
                 "Name the table: ?table=customers or {\"table\": \"public.customers\"}.");
  if (table->size() > 512 || table->find_first_of(std::string("\0\r\n", 3)) != std::string::npos)
    return Error("sql.bad_table", "the table name is not one line of at most 512 characters",
                 "Choose a table from the list of tables.");
  return *table;
}

}  // namespace extdata::api::sql
