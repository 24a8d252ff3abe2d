#include "cli/cli.h"
#include "core/memory.h"
#include "sources/kinds.h"
#include "targets/types.h"

int main(int argc, char** argv) {
  extdata::memory::map_large_buffers_separately();
  extdata::sources::register_builtin_kinds();
  extdata::targets::register_builtin_targets();
  return extdata::cli::run(argc, argv);
}
