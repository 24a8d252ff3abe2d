#pragma once
// The operator's files roots on the command line: the repeatable global --files-root flag and
// EXTDATA_FILES_ROOT (':'-separated), see src/sources/file/files_root.h and docs/files.md.
// Never taken from a config document or the API.
#include <CLI/CLI.hpp>
#include <functional>

namespace extdata::cli {

// Adds --files-root to `app`. The returned step installs the process-wide roots once the
// command line is parsed; a root that is not an existing absolute directory is a usage error.
std::function<void()> add_files_options(CLI::App& app);

}  // namespace extdata::cli
