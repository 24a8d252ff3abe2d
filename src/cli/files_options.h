#pragma once
// The operator's files roots on the command line: the repeatable global --files-root flag and
// EXTDATA_FILES_ROOT (':'-separated), see src/sources/file/files_root.h and docs/files.md.
// Never taken from a config document or the API.
#include <CLI/CLI.hpp>
#include <functional>
#include <string_view>

#include "core/error.h"
#include "sources/file/files_root.h"

namespace extdata::cli {

// Adds --files-root to `app`. The returned step installs the process-wide roots once the
// command line is parsed; a root that is not an existing absolute directory is a usage error.
std::function<void()> add_files_options(CLI::App& app);

// The roots of `files_root` (EXTDATA_FILES_ROOT's form) plus the --files-root flags given at
// start: what a reload (SIGHUP) installs from the settings file.
Result<sources::FilesRoots> operator_files_roots(std::string_view files_root);

}  // namespace extdata::cli
