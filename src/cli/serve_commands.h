#pragma once
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// serve, auth SOURCE.
void add_serve_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
