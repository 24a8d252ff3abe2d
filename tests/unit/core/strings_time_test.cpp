#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/time.h"

namespace extdata {
namespace {

TEST(Strings, LowerFoldsAsciiOnly) {
  EXPECT_EQ(lower("Content-Type ÄB"), "content-type Äb");
  EXPECT_EQ(lower(""), "");
}

TEST(Strings, TrimRemovesAsciiWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trim(" \t\r\n a b \f\v"), "a b");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(Strings, SplitKeepsEmptyPieces) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split(",", ','), (std::vector<std::string_view>{"", ""}));
}

TEST(Strings, AsSentenceCapitalisesAPlainFirstWordOnly) {
  EXPECT_EQ(as_sentence("check the URL"), "Check the URL");
  EXPECT_EQ(as_sentence("lists on this site: A, B"), "Lists on this site: A, B");
  EXPECT_EQ(as_sentence("Already a sentence"), "Already a sentence");
  EXPECT_EQ(as_sentence("client_id is the Application ID"), "client_id is the Application ID");
  EXPECT_EQ(as_sentence("scope must end in /.default"), "Scope must end in /.default");
  EXPECT_EQ(as_sentence("--var country=DE"), "--var country=DE");
  EXPECT_EQ(as_sentence("`extdata token create`"), "`extdata token create`");
  EXPECT_EQ(as_sentence("ctx.country=VALUE"), "ctx.country=VALUE");
  EXPECT_EQ(as_sentence(""), "");
}

TEST(Strings, CaseInsensitiveComparison) {
  EXPECT_TRUE(equals_ignore_case("Bearer", "bEARER"));
  EXPECT_FALSE(equals_ignore_case("Bearer", "Bearer "));
  EXPECT_EQ(compare_ignore_case("abc", "ABD"), -1);
  EXPECT_EQ(compare_ignore_case("ABC", "abc"), 0);
  EXPECT_EQ(compare_ignore_case("abcd", "ABC"), 1);
  EXPECT_TRUE(ends_with_ignore_case("Contoso.SharePoint.COM", ".sharepoint.com"));
  EXPECT_FALSE(ends_with_ignore_case("com", ".sharepoint.com"));
}

TEST(Time, UnixSecondsRoundTrip) {
  const auto t = from_unix_seconds(1'800'000'000);
  EXPECT_EQ(unix_seconds(t), 1'800'000'000);
  EXPECT_EQ(unix_seconds(t + std::chrono::milliseconds(999)), 1'800'000'000);
  EXPECT_DOUBLE_EQ(seconds_between(t, t + std::chrono::milliseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(seconds_between(t + std::chrono::seconds(2), t), -2.0);
}

TEST(Time, FormatsRfc3339InUtcWithWholeSeconds) {
  EXPECT_EQ(format_rfc3339(from_unix_seconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(from_unix_seconds(1'800'000'000) + std::chrono::milliseconds(900)),
            "2027-01-15T08:00:00Z");
  EXPECT_EQ(format_rfc3339(from_unix_seconds(951'825'599)), "2000-02-29T11:59:59Z");
  EXPECT_EQ(format_date(from_unix_seconds(1'800'000'000)), "2027-01-15");
}

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(unix_seconds(*parse_rfc3339("2027-01-15T08:00:00Z")), 1'800'000'000);
  EXPECT_EQ(unix_seconds(*parse_rfc3339("2027-01-15T10:30:00+02:30")), 1'800'000'000);
  EXPECT_EQ(unix_seconds(*parse_rfc3339("2027-01-15t03:00:00-05:00")), 1'800'000'000);
  EXPECT_EQ(unix_seconds(*parse_rfc3339("2027-01-15 08:00:00z")), 1'800'000'000);
  auto fractional = parse_rfc3339("2027-01-15T08:00:00.2509999Z");
  ASSERT_TRUE(fractional.ok());
  EXPECT_EQ(*fractional - from_unix_seconds(1'800'000'000), std::chrono::microseconds(250999));
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2024-02-29T23:59:59Z")), "2024-02-29T23:59:59Z");
}

TEST(Time, RefusesMalformedTimestampsWithThePosition) {
  auto bad_day = parse_rfc3339("2023-02-29T00:00:00Z");
  ASSERT_FALSE(bad_day.ok());
  EXPECT_EQ(bad_day.error().code, "time.bad_timestamp");
  EXPECT_EQ(bad_day.error().details.at("position"), "5");
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00Z").error().details.at("position"), "16");
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00").error().details.at("position"), "19");
  for (std::string_view text :
       {"", "2027", "2027-13-01T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T23:59:60Z",
        "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00+2:00", "2027-01-15T08:00:00Zjunk",
        "2027-01-15T08:00:00+24:00", "x027-01-15T08:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(text).ok()) << text;
  }
  EXPECT_FALSE(parse_rfc3339(std::string(100'000, '1')).ok());
}

TEST(Time, DurationsAsWrittenInConfig) {
  EXPECT_EQ(parse_duration_seconds("30"), 30);
  EXPECT_EQ(parse_duration_seconds("30s"), 30);
  EXPECT_EQ(parse_duration_seconds("500ms"), 0.5);
  EXPECT_EQ(parse_duration_seconds("15m"), 900);
  EXPECT_EQ(parse_duration_seconds("15min"), 900);
  EXPECT_EQ(parse_duration_seconds("2h"), 7200);
  EXPECT_EQ(parse_duration_seconds("1.5d"), 129600);
  for (std::string_view text : {"", "s", "-1s", "1 s", "1w", "1.2.3s", ".", "1e3"})
    EXPECT_FALSE(parse_duration_seconds(text).has_value()) << text;
}

}  // namespace
}  // namespace extdata
