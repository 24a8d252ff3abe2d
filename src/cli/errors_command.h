#pragma once
#include <CLI/CLI.hpp>

#include "cli/cli_env.h"

namespace extdata::cli {

// `extdata errors`: every error category (HTTP status, exit code) and code, as the Markdown
// of docs/errors.md, or as JSON with --output json.
void add_errors_command(CLI::App& app, CliEnv& env);

}  // namespace extdata::cli
