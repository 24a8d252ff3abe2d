#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/backup_commands.h"
#include "cli/cli_env.h"
#include "cli/config_commands.h"
#include "cli/errors_command.h"
#include "cli/files_options.h"
#include "cli/limit_options.h"
#include "cli/network_options.h"
#include "cli/query_command.h"
#include "cli/serve_commands.h"
#include "cli/sharepoint_commands.h"
#include "cli/source_commands.h"
#include "cli/sql_commands.h"
#include "cli/store_commands.h"
#include "cli/target_commands.h"
#include "config/config.h"
#include "core/log.h"

namespace extdata::cli {

namespace {

// For a mistyped command ("extdata source lsit"): the closest command at the level where the
// words stopped matching, by the same edit distance as config keys. Empty when the words
// are commands all the way, or nothing is close.
std::string command_suggestion(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  std::string path = "extdata";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.starts_with("-")) {  // an option, and its value when it takes one
      const CLI::Option* option = level->get_option_no_throw(word);
      if (!option) option = app.get_option_no_throw(word);
      if (option && option->get_items_expected_min() > 0 && word.find('=') == std::string::npos)
        ++i;
      continue;
    }
    std::vector<std::string> names;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : level->get_subcommands({})) {
      names.push_back(sub->get_name());
      if (sub->get_name() == word) next = sub;
    }
    if (next) {
      level = next;
      path += " " + word;
      continue;
    }
    if (names.empty()) return {};
    auto near = config::closest_match(word, names);
    if (!near) return {};
    return "'" + word + "' is not a command of `" + path + "`. Did you mean `" + path + " " +
           *near + "`?";
  }
  return {};
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"extdata: connects form fields to external data sources"};
  app.set_version_flag("--version", std::string("extdata ") + EXTDATA_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  CliEnv env;
  app.add_option("--data", env.data_flag,
                 "Data directory (default: $EXTDATA_DATA or ./extdata-data)");
  app.add_option("--store", env.store_flag,
                 "A shared PostgreSQL store, postgresql://USER@HOST:PORT/DB?sslmode=... (default: "
                 "$EXTDATA_STORE, else SQLite in the data directory; the password from "
                 "PGPASSFILE or EXTDATA_STORE_PASSWORD_FILE, never in the URL)");
  app.add_option("--secrets-dir", env.secrets_dir,
                 "The only directory ${file:NAME} in config files may read (docs/security.md)")
      ->envname("EXTDATA_SECRETS_DIR");
  app.add_option("--output", env.output,
                 "Output format: text (lists as tab-separated lines), table (aligned, with "
                 "headers) or json")
      ->check(CLI::IsMember({"text", "table", "json"}));
  add_limit_options(app);
  const auto apply_network_options = add_network_options(app);
  const auto apply_files_options = add_files_options(app);
  app.parse_complete_callback([&] {
    apply_network_options();
    apply_files_options();
  });
  log::init("warn", "text");

  add_config_commands(app, env);
  add_backup_commands(app, env);
  add_store_commands(app, env);
  add_serve_commands(app, env);
  add_sharepoint_commands(app, env);
  add_sql_commands(app, env);
  add_source_commands(app, env);
  add_target_commands(app, env);
  add_query_command(app, env.exit_code);
  add_errors_command(app, env);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (auto suggestion = command_suggestion(app, argc, argv); !suggestion.empty()) {
      std::cerr << "error: " << suggestion << "\n";
      return 2;
    }
    app.exit(e);
    return 2;
  }
  return env.exit_code;
}

}  // namespace extdata::cli
