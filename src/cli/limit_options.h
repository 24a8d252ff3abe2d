#pragma once
// The operator limits of core/limits.h as global options of the `extdata` command
// (`--max-json-depth N`, or EXTDATA_MAX_JSON_DEPTH=N), one per row of limit_settings().
#include <CLI/CLI.hpp>

namespace extdata::cli {

void add_limit_options(CLI::App& app);

}  // namespace extdata::cli
