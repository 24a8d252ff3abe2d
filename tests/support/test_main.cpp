// The main() of every unit test binary: like GTest's gtest_main, after registering the
// built-in source kinds and auth methods as extdata's own main() does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/network_policy.h"
#include "sources/kinds.h"
#include "targets/types.h"

int main(int argc, char** argv) {
  extdata::sources::register_builtin_kinds();
  extdata::targets::register_builtin_targets();
  extdata::http::NetworkPolicy::set_process(std::make_shared<const extdata::http::NetworkPolicy>(
      extdata::http::NetworkPolicy::parse("127.0.0.1").value()));
  testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
