#include "cli/cli.h"
#include "core/memory.h"

int main(int argc, char** argv) {
  extdata::memory::map_large_buffers_separately();
  return extdata::cli::run(argc, argv);
}
