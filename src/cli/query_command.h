#pragma once
// `extdata query EXPR [FILE]`: try a JSONPath (or XPath with --xml, JSONPath over CSV rows
// with --csv) against a file or stdin and print the results as a JSON array.
#include <CLI/CLI.hpp>

namespace extdata::cli {

// Registers the subcommand; its callback sets exit_code (0 ok, 1 bad expression or input).
void add_query_command(CLI::App& app, int& exit_code);

}  // namespace extdata::cli
