#include "cli/sharepoint_commands.h"

#include <iostream>

#include "cli/load_source.h"
#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::cli {

namespace {

void run(CliEnv& env, const std::string& name, const std::string& config_file, bool columns) {
  auto loaded = load_source(env, name, config_file);
  if (!loaded.ok()) return env.fail(loaded.error());
  sources::Source& source = *loaded->source;
  if (columns) {
    auto cols = sources::sharepoint::list_columns(source);
    if (!cols.ok()) return env.fail(cols.error());
    nlohmann::json rows = sources::sharepoint::to_json(*cols);
    if (!env.json())
      for (auto& c : rows) c["indexed"] = c.value("indexed", false) ? "yes" : "no";
    return env.print_rows({{"display_name", "DISPLAY NAME"},
                           {"name", "INTERNAL NAME"},
                           {"type", "TYPE"},
                           {"indexed", "INDEXED"}},
                          rows, "The list has no columns.");
  }
  auto lists = sources::sharepoint::list_lists(source);
  if (!lists.ok()) return env.fail(lists.error());
  env.print_rows({{"title", "TITLE"}, {"id", "ID"}, {"template", "TEMPLATE"}},
                 sources::sharepoint::to_json(*lists), "The site has no lists.");
}

}  // namespace

void add_sharepoint_commands(CLI::App& app, CliEnv& env) {
  auto* sp =
      app.add_subcommand("sharepoint", "Explore the SharePoint site of a sharepoint-list source");
  sp->require_subcommand(1);
  auto* name = env.slot();
  auto* file = env.slot();
  const char* file_help = "Take the source from this config file (before it is applied)";
  auto* lists = sp->add_subcommand("lists", "The site's lists (system lists left out)");
  lists->add_option("SOURCE", *name)->required();
  lists->add_option("--file,--config", *file, file_help);
  lists->callback([&env, name, file] { run(env, *name, *file, false); });
  auto* cols = sp->add_subcommand("columns",
                                  "The list's columns: display name, internal name, type, indexed");
  cols->add_option("SOURCE", *name)->required();
  cols->add_option("--file,--config", *file, file_help);
  cols->callback([&env, name, file] { run(env, *name, *file, true); });
}

}  // namespace extdata::cli
