#include "cli/cli.h"

int main(int argc, char** argv) {
  return extdata::cli::run(argc, argv);
}
