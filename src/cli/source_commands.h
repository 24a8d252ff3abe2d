#pragma once
// `extdata source test SOURCE` and `extdata fetch SOURCE`: run a source once, with
// --var values, from the store or from a config file (--config). The logic lives in
// src/sources/common/report.h so POST /api/v1/sources/{name}/test answers the same.
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// Adds `test` under the existing `source` command (created if absent) and `fetch` at the top.
void add_source_commands(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
