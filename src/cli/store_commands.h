#pragma once
// `extdata store migrate`: moves an SQLite data directory into a PostgreSQL store.
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

void add_store_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
