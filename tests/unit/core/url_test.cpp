#include "core/url.h"

#include <gtest/gtest.h>

#include <string>

namespace extdata {
namespace {

Url parsed(std::string_view text) {
  auto url = Url::parse(text);
  EXPECT_TRUE(url.ok()) << text << ": " << (url.ok() ? "" : url.error().to_string());
  return url.ok() ? std::move(url).value() : *Url::parse("http://invalid.test/");
}

TEST(Url, PartsOfAnAbsoluteUrlAreNormalisedToLowerCaseSchemeAndHost) {
  Url url = parsed("HTTPS://Graph.Microsoft.COM/v1.0/Sites?$top=5&x=%41#Frag");
  EXPECT_EQ(url.scheme(), "https");
  EXPECT_EQ(url.host(), "graph.microsoft.com");
  EXPECT_EQ(url.port(), 443);
  EXPECT_FALSE(url.has_explicit_port());
  EXPECT_EQ(url.path(), "/v1.0/Sites");
  EXPECT_EQ(url.query(), "$top=5&x=%41");
  EXPECT_EQ(url.fragment(), "Frag");
  EXPECT_FALSE(url.has_userinfo());
  EXPECT_TRUE(url.is_http());
  EXPECT_EQ(url.str(), "https://graph.microsoft.com/v1.0/Sites?$top=5&x=%41#Frag");
}

TEST(Url, DefaultPortsComeFromTheSchemeAndExplicitOnesAreKept) {
  EXPECT_EQ(parsed("http://h/").port(), 80);
  EXPECT_EQ(parsed("https://h/").port(), 443);
  Url explicit_port = parsed("http://h:8080/x");
  EXPECT_EQ(explicit_port.port(), 8080);
  EXPECT_TRUE(explicit_port.has_explicit_port());
  EXPECT_EQ(explicit_port.authority(), "h:8080");
  EXPECT_EQ(parsed("https://h/").authority(), "h");
}

TEST(Url, AnEmptyPathIsASlashAndQueryAndFragmentMayBeAbsent) {
  Url url = parsed("https://example.com");
  EXPECT_EQ(url.path(), "/");
  EXPECT_FALSE(url.query().has_value());
  EXPECT_FALSE(url.fragment().has_value());
}

TEST(Url, OriginOmitsTheDefaultPortAndComparesSchemeHostAndEffectivePort) {
  EXPECT_EQ(parsed("https://H.example:443/a").origin(), "https://h.example");
  EXPECT_EQ(parsed("http://h.example:8080/a?b").origin(), "http://h.example:8080");
  EXPECT_TRUE(parsed("https://H.example/a").same_origin(parsed("https://h.example:443/b?c")));
  EXPECT_FALSE(parsed("https://h.example/").same_origin(parsed("http://h.example/")));
  EXPECT_FALSE(parsed("https://h.example/").same_origin(parsed("https://h.example:8443/")));
  EXPECT_FALSE(parsed("https://h.example/").same_origin(parsed("https://g.example/")));
  EXPECT_FALSE(parsed("https://h.example/").same_origin(parsed("https://h.example.evil/")));
}

TEST(Url, UserinfoIsSeparatedFromTheHost) {
  Url url = parsed("https://alice:s%40cret@example.com:8443/p");
  EXPECT_EQ(url.user(), "alice");
  EXPECT_EQ(url.password(), "s%40cret");
  EXPECT_TRUE(url.has_userinfo());
  EXPECT_EQ(url.host(), "example.com");
  EXPECT_EQ(url.port(), 8443);
  // The classic confusion: the host is what follows the last '@' of the authority.
  Url tricky = parsed("http://127.0.0.1:80@evil.example/");
  EXPECT_EQ(tricky.host(), "evil.example");
  EXPECT_EQ(tricky.user(), "127.0.0.1");
}

TEST(Url, IPv6LiteralsKeepTheirBracketsInHostAndAreCanonical) {
  Url url = parsed("http://[0:0:0:0:0:0:0:1]:8080/x");
  EXPECT_EQ(url.host(), "[::1]");
  EXPECT_EQ(url.port(), 8080);
  EXPECT_EQ(url.origin(), "http://[::1]:8080");
  EXPECT_TRUE(url.same_origin(parsed("http://[::1]:8080/")));
  ASSERT_TRUE(url.ip().has_value());
  EXPECT_FALSE(url.ip()->is_v4());
  EXPECT_EQ(url.ip()->str(), "::1");
  EXPECT_TRUE(url.is_loopback());
  EXPECT_EQ(parsed("http://[FD00:EC2::254]/").host(), "[fd00:ec2::254]");
}

TEST(Url, IPv6ZoneIdIsSeparateFromTheHost) {
  Url url = parsed("http://[fe80::1%25eth0]/");
  EXPECT_EQ(url.host(), "[fe80::1]");
  EXPECT_EQ(url.zone_id(), "eth0");
  EXPECT_EQ(url.ip()->str(), "fe80::1");
  EXPECT_EQ(url.str(), "http://[fe80::1%25eth0]/");
}

TEST(Url, PercentEncodedHostsAreDecodedAsLibcurlDoes) {
  Url url = parsed("http://%31%32%37.0.0.1/");
  EXPECT_EQ(url.host(), "127.0.0.1");
  EXPECT_TRUE(url.is_loopback());
  EXPECT_EQ(parsed("http://ex%41mple.com/").host(), "example.com");
}

TEST(Url, EveryIPv4NotationLibcurlAcceptsIsTheSameAddress) {
  // What a resolver-less check would miss: each of these connects to 169.254.169.254.
  for (const char* text : {"http://169.254.169.254/", "http://2852039166/", "http://0xA9FEA9FE/",
                           "http://0xa9.0xfe.0xa9.0xfe/", "http://0251.0376.0251.0376/",
                           "http://169.254.43518/", "http://169.16689662/"}) {
    Url url = parsed(text);
    EXPECT_EQ(url.host(), "169.254.169.254") << text;
    ASSERT_TRUE(url.ip().has_value()) << text;
    EXPECT_TRUE(url.ip()->is_v4()) << text;
    EXPECT_EQ(url.ip()->str(), "169.254.169.254") << text;
  }
  EXPECT_EQ(parsed("http://127.1/").host(), "127.0.0.1");
  EXPECT_TRUE(parsed("http://127.1/").is_loopback());
  EXPECT_TRUE(parsed("http://0x7f.1/").is_loopback());
  EXPECT_TRUE(parsed("http://2130706433/").is_loopback());
}

TEST(Url, IPv4MappedIPv6ExposesTheEmbeddedAddress) {
  for (const char* text : {"http://[::ffff:169.254.169.254]/", "http://[::FFFF:a9fe:a9fe]/"}) {
    Url url = parsed(text);
    ASSERT_TRUE(url.ip().has_value()) << text;
    EXPECT_FALSE(url.ip()->is_v4());
    auto v4 = url.ip()->mapped_v4();
    ASSERT_TRUE(v4.has_value()) << text;
    EXPECT_EQ(v4->str(), "169.254.169.254");
    EXPECT_EQ(url.host(), "[::ffff:169.254.169.254]") << text;
  }
  EXPECT_TRUE(parsed("http://[::ffff:127.0.0.1]/").is_loopback());
  EXPECT_FALSE(parsed("http://[::1:2]/").ip()->mapped_v4().has_value());
}

TEST(Url, HostNamesAreNotIpLiterals) {
  EXPECT_FALSE(parsed("https://example.com/").ip().has_value());
  EXPECT_FALSE(parsed("https://1.2.3.4.example/").ip().has_value());
  EXPECT_TRUE(parsed("http://localhost:1/").is_loopback());
  EXPECT_TRUE(parsed("http://api.localhost/").is_loopback());
  EXPECT_FALSE(parsed("http://localhost.example/").is_loopback());
  EXPECT_FALSE(parsed("http://128.0.0.1/").is_loopback());
}

TEST(IpAddress, ParsesBareLiteralsStrictly) {
  EXPECT_EQ(IpAddress::parse("10.0.0.1")->str(), "10.0.0.1");
  EXPECT_EQ(IpAddress::parse("[::1]")->str(), "::1");
  EXPECT_EQ(IpAddress::parse("fe80::1%eth0")->str(), "fe80::1");
  EXPECT_FALSE(IpAddress::parse("2852039166").has_value());
  EXPECT_FALSE(IpAddress::parse("example.com").has_value());
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST(Url, DotSegmentsAreResolvedUnlessAskedToKeepThem) {
  EXPECT_EQ(parsed("https://h/a/../b/./c").path(), "/b/c");
  auto kept = Url::parse("https://h/a/../b", {.keep_dot_segments = true});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->path(), "/a/../b");
}

TEST(Url, PercentEncodingIsKeptAsWritten) {
  Url url = parsed("https://h/Sales%20%26%20Marketing/%7e?q=a%2Fb");
  EXPECT_EQ(url.path(), "/Sales%20%26%20Marketing/%7e");
  EXPECT_EQ(url.query(), "q=a%2Fb");
  EXPECT_EQ(percent_decode("Sales%20%26%20Marketing"), "Sales & Marketing");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b%2b"), "a+b+");
  EXPECT_EQ(percent_encode("a b&c=d/é~-._"), "a%20b%26c%3Dd%2F%C3%A9~-._");
}

TEST(Url, SpacesAreRefusedWithTheirPositionUnlessAllowed) {
  auto url = Url::parse("https://h/a b");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, "url.invalid");
  EXPECT_EQ(url.error().details.at("position"), "11");
  EXPECT_NE(url.error().message.find("space"), std::string::npos);
  auto allowed = Url::parse("https://h/Shared Documents", {.allow_spaces = true});
  ASSERT_TRUE(allowed.ok()) << allowed.error().to_string();
  EXPECT_EQ(percent_decode(allowed->path()), "/Shared Documents");
}

TEST(Url, WithQueryAppendsEncodedParametersAndKeepsTheRest) {
  Url base = parsed("https://h/items?a=1#top");
  Url url = base.with_query({{"$filter", "Title eq 'A&B'"}, {"k", "v"}});
  EXPECT_EQ(url.str(), "https://h/items?a=1&%24filter=Title%20eq%20%27A%26B%27&k=v#top");
  EXPECT_EQ(url.query(), "a=1&%24filter=Title%20eq%20%27A%26B%27&k=v");
  EXPECT_EQ(base.str(), "https://h/items?a=1#top") << "the original is unchanged";
  EXPECT_EQ(parsed("https://h/x").with_query({{"n", "1"}}).str(), "https://h/x?n=1");
}

TEST(Url, ResolvesRelativeAndAbsoluteReferences) {
  Url base = parsed("https://h.example/v1/items?page=1");
  EXPECT_EQ(base.resolve("/v1/items?page=2")->str(), "https://h.example/v1/items?page=2");
  EXPECT_EQ(base.resolve("next")->str(), "https://h.example/v1/next");
  EXPECT_EQ(base.resolve("//other.example/x")->str(), "https://other.example/x");
  Url absolute = *base.resolve("http://169.254.43518/latest");
  EXPECT_EQ(absolute.host(), "169.254.169.254");
  EXPECT_FALSE(absolute.same_origin(base));
  EXPECT_FALSE(base.resolve(std::string(Url::kMaxLength + 1, 'a')).ok());
  EXPECT_FALSE(base.resolve("http://[::1").ok());
}

TEST(Url, CopiesAreIndependent) {
  Url a = parsed("https://h/a");
  Url b = a;
  b = b.with_query({{"x", "1"}});
  EXPECT_EQ(a.str(), "https://h/a");
  EXPECT_EQ(b.str(), "https://h/a?x=1");
  Url c = std::move(b);
  EXPECT_EQ(c.host(), "h");
}

TEST(Url, MalformedInputIsAnErrorNeverACrash) {
  for (std::string text : std::vector<std::string>{"",
                                                   ":",
                                                   "://h",
                                                   "h",
                                                   "example.com/path",
                                                   "//h/x",
                                                   "http://",
                                                   "http://[::1",
                                                   "http://[]/",
                                                   "http://[zz::1]/",
                                                   "http://h:99999/",
                                                   "http://h:-1/",
                                                   "http://h:port/",
                                                   "http://a b/",
                                                   "http://h/\n",
                                                   std::string("http://h/\0x", 10),
                                                   "http://h\x7f/",
                                                   "\xff\xfe://x",
                                                   "http://%zz/",
                                                   "http://[::ffff:1.2.3.4.5]/"}) {
    auto url = Url::parse(text);
    EXPECT_FALSE(url.ok()) << "'" << text << "' parsed as " << (url.ok() ? url->str() : "");
    if (!url.ok()) EXPECT_EQ(url.error().code, "url.invalid");
  }
}

TEST(Url, ControlCharactersAreRefusedWithTheirPosition) {
  auto url = Url::parse("https://h/a\r\nX-Injected: 1");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().details.at("position"), "11");
}

TEST(Url, OverlongInputIsRefusedBeforeParsingAndTheMessageStaysShort) {
  const std::string huge = "https://h/" + std::string(60'000, 'a');
  auto url = Url::parse(huge);
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.error().message.find(std::to_string(Url::kMaxLength)), std::string::npos);
  EXPECT_LT(url.error().message.size(), 400u);
  EXPECT_TRUE(Url::parse("https://h/" + std::string(Url::kMaxLength - 10, 'a')).ok());
}

TEST(Url, AnyByteSequenceParsesOrFailsCleanly) {
  // A cheap in-test fuzz: every prefix of a nasty URL.
  const std::string nasty = "hTTp://u:p@[::ffff:0x7f.1]:0080/%2e%2e/../a?b=%ZZ#c\\d@e";
  for (size_t n = 0; n <= nasty.size(); ++n) {
    auto url = Url::parse(nasty.substr(0, n));
    if (url.ok()) EXPECT_FALSE(url->host().empty());
  }
}

}  // namespace
}  // namespace extdata
