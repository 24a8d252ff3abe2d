#include "cli/cli.h"
#include "cli/query_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace extdata::cli {

int run(int argc, char** argv) {
  CLI::App app{"extdata: connects form fields to external data sources"};
  app.set_version_flag("--version", std::string("extdata ") + EXTDATA_VERSION);
  app.require_subcommand(0, 1);
  int exit_code = 0;
  add_query_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace extdata::cli
