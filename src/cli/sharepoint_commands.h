#pragma once
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// sharepoint lists SOURCE, sharepoint columns SOURCE.
void add_sharepoint_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
