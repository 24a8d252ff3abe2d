#pragma once
// `extdata backup FILE` and `extdata restore FILE` (docs/operations.md).
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

void add_backup_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
