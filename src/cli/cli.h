#pragma once

namespace extdata::cli {

// Exit codes: 0 success, else the exit code of the error's category (docs/errors.md):
// 2 for usage errors, 1 for every other failure.
int run(int argc, char** argv);

}  // namespace extdata::cli
