#pragma once

namespace extdata::cli {

// Exit codes: 0 success, 1 failure, 2 usage error.
int run(int argc, char** argv);

}  // namespace extdata::cli
