#include "core/error.h"

#include <gtest/gtest.h>

namespace extdata {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error("test.not_positive", "value must be positive", "pass a number above 0");
  return v;
}

Result<int> doubled(int v) {
  EXTDATA_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return x * 2;
}

TEST(Result, CarriesValueOrError) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "test.not_positive");
  EXPECT_EQ(bad.error().to_string(), "value must be positive — pass a number above 0");
}

TEST(Error, KeepsUpstreamDetails) {
  Error e("auth.secret_expired", "secret expired");
  e.with("aadsts", "7000222").with("trace_id", "abc");
  EXPECT_EQ(e.details.at("aadsts"), "7000222");
  EXPECT_EQ(e.details.size(), 2u);
}

}  // namespace
}  // namespace extdata
