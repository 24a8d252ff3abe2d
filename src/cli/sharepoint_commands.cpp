#include "cli/sharepoint_commands.h"

#include <iostream>

#include "api/runtime.h"
#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::cli {

namespace {

void run(CliEnv& env, const std::string& name, bool columns) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  auto src = runtime.source(name);
  if (!src.ok()) return env.fail(src.error());
  if (columns) {
    auto cols = sources::sharepoint::list_columns(**src);
    if (!cols.ok()) return env.fail(cols.error());
    if (env.json()) return env.print(sources::sharepoint::to_json(*cols));
    std::cout << "DISPLAY NAME\tINTERNAL NAME\tTYPE\tINDEXED\n";
    for (const auto& c : sources::sharepoint::to_json(*cols))
      std::cout << c.value("display_name", "") << "\t" << c.value("name", "") << "\t" << c.value("type", "") << "\t"
                << (c.value("indexed", false) ? "yes" : "no") << "\n";
    return;
  }
  auto lists = sources::sharepoint::list_lists(**src);
  if (!lists.ok()) return env.fail(lists.error());
  if (env.json()) return env.print(sources::sharepoint::to_json(*lists));
  std::cout << "TITLE\tID\tTEMPLATE\n";
  for (const auto& l : sources::sharepoint::to_json(*lists))
    std::cout << l.value("title", l.value("displayName", "")) << "\t" << l.value("id", "") << "\t"
              << l.value("template", "") << "\n";
}

}  // namespace

void add_sharepoint_commands(CLI::App& app, CliEnv& env) {
  auto* sp = app.add_subcommand("sharepoint", "Explore the SharePoint site of a sharepoint-list source");
  sp->require_subcommand(1);
  auto* name = env.slot();
  auto* lists = sp->add_subcommand("lists", "The site's lists (system lists left out)");
  lists->add_option("SOURCE", *name)->required();
  lists->callback([&env, name] { run(env, *name, false); });
  auto* cols = sp->add_subcommand("columns", "The list's columns: display name, internal name, type, indexed");
  cols->add_option("SOURCE", *name)->required();
  cols->callback([&env, name] { run(env, *name, true); });
}

}  // namespace extdata::cli
