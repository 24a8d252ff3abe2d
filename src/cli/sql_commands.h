#pragma once
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// sql tables SOURCE, sql columns SOURCE TABLE.
void add_sql_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
