#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli_env.h"
#include "cli/config_commands.h"
#include "cli/errors_command.h"
#include "cli/limit_options.h"
#include "cli/query_command.h"
#include "cli/serve_commands.h"
#include "cli/sharepoint_commands.h"
#include "cli/source_commands.h"
#include "core/log.h"

namespace extdata::cli {

int run(int argc, char** argv) {
  CLI::App app{"extdata: connects form fields to external data sources"};
  app.set_version_flag("--version", std::string("extdata ") + EXTDATA_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  CliEnv env;
  app.add_option("--data", env.data_flag,
                 "Data directory (default: $EXTDATA_DATA or ./extdata-data)");
  app.add_option("--output", env.output, "Output format")->check(CLI::IsMember({"text", "json"}));
  add_limit_options(app);
  log::init("warn", "text");

  add_config_commands(app, env);
  add_serve_commands(app, env);
  add_sharepoint_commands(app, env);
  add_source_commands(app, env);
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
    app.exit(e);
    return 2;
  }
  return env.exit_code;
}

}  // namespace extdata::cli
