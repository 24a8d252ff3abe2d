// The main() of every unit test binary: like GTest's gtest_main, after registering the
// built-in source kinds and auth methods as extdata's own main() does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sources/kinds.h"

int main(int argc, char** argv) {
  extdata::sources::register_builtin_kinds();
  testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
