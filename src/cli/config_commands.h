#pragma once
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// validate FILE, apply -f FILE, source list|show|rm, field list|show|rm, token create|list|rm.
void add_config_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
