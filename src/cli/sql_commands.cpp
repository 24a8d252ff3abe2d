#include "cli/sql_commands.h"

#include "cli/load_source.h"
#include "sources/sql/sql_source.h"

namespace extdata::cli {

namespace {

// A catalog query's boolean: true/false, or 1/0 where the database has no boolean type.
bool is_true(const nlohmann::json& v) {
  return v.is_boolean() ? v.get<bool>() : v.is_number() && v.get<double>() != 0;
}

void run(CliEnv& env, const std::string& name, const std::string& config_file,
         const std::string& table) {
  auto loaded = load_source(env, name, config_file);
  if (!loaded.ok()) return env.fail(loaded.error());
  sources::Source& source = *loaded->source;
  if (!table.empty()) {
    auto cols = sources::sql::list_columns(source, table);
    if (!cols.ok()) return env.fail(cols.error());
    if (!env.json())
      for (auto& c : *cols) c["nullable"] = is_true(c["nullable"]) ? "yes" : "no";
    return env.print_rows({{"name", "NAME"}, {"type", "TYPE"}, {"nullable", "NULLABLE"}}, *cols,
                          "No such table, or it has no columns the user can see.");
  }
  auto tables = sources::sql::list_tables(source);
  if (!tables.ok()) return env.fail(tables.error());
  env.print_rows({{"schema", "SCHEMA"}, {"name", "NAME"}, {"type", "TYPE"}}, *tables,
                 "The database has no tables the user can see.");
}

}  // namespace

void add_sql_commands(CLI::App& app, CliEnv& env) {
  auto* sql = app.add_subcommand("sql", "Explore the database of an sql source");
  sql->require_subcommand(1);
  auto* name = env.slot();
  auto* file = env.slot();
  auto* table = env.slot();
  const char* file_help = "Take the source from this config file (before it is applied)";
  auto* tables = sql->add_subcommand("tables", "The tables and views the source's user sees");
  tables->add_option("SOURCE", *name)->required();
  tables->add_option("--file,--config", *file, file_help);
  tables->callback([&env, name, file] { run(env, *name, *file, ""); });
  auto* cols = sql->add_subcommand("columns", "A table's columns: name, type, nullable");
  cols->add_option("SOURCE", *name)->required();
  cols->add_option("TABLE", *table, "Table name, or schema.table")->required();
  cols->add_option("--file,--config", *file, file_help);
  cols->callback([&env, name, file, table] { run(env, *name, *file, *table); });
}

}  // namespace extdata::cli
