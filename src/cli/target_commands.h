#pragma once
// `extdata target list` and `extdata target sync NAME [--dry-run]` (issue 20: targets).
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

void add_target_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
