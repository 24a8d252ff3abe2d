#include "cli/cli.h"
#include "core/memory.h"
#include "sources/kinds.h"

int main(int argc, char** argv) {
  extdata::memory::map_large_buffers_separately();
  extdata::sources::register_builtin_kinds();
  return extdata::cli::run(argc, argv);
}
