#include <gtest/gtest.h>

#include "sources/sharepoint/sharepoint_source.h"
#include "sources/sharepoint/site_address.h"

namespace extdata::sources::sharepoint {
namespace {

TEST(SiteAddress, BrowserUrlOfAListViewKeepsTheSiteAndNamesTheList) {
  auto site = parse_site_url(
      "https://Contoso.SharePoint.com/sites/Sales/Lists/Customers/AllItems.aspx?viewid=1", false);
  ASSERT_TRUE(site.ok()) << site.error().to_string();
  EXPECT_EQ(site->host, "contoso.sharepoint.com");
  EXPECT_EQ(site->path, "/sites/Sales");
  EXPECT_EQ(site->list_in_url, "Customers");
  EXPECT_EQ(site->graph_path(), "/sites/contoso.sharepoint.com:/sites/Sales");
}

TEST(SiteAddress, PathSegmentsAreDecodedThenEncodedForGraph) {
  auto site =
      parse_site_url("https://contoso.sharepoint.com/teams/Sales%20%26%20Marketing/", false);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->path, "/teams/Sales & Marketing");
  EXPECT_EQ(site->graph_path(), "/sites/contoso.sharepoint.com:/teams/Sales%20%26%20Marketing");
}

TEST(SiteAddress, RootSiteUsesTheHostForm) {
  auto site = parse_site_url("https://contoso.sharepoint.com/SitePages/Home.aspx", false);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->path, "");
  EXPECT_EQ(site->graph_path(), "/sites/contoso.sharepoint.com");
}

TEST(SiteAddress, NationalCloudHostsAreSharePoint) {
  EXPECT_TRUE(is_sharepoint_online_host("contoso.sharepoint.us"));
  EXPECT_TRUE(is_sharepoint_online_host("contoso.sharepoint.cn"));
  EXPECT_FALSE(is_sharepoint_online_host("sharepoint.com"));
  EXPECT_FALSE(is_sharepoint_online_host("contoso.example.com"));
}

TEST(SiteAddress, NotASharePointUrlIsRefusedWithAHint) {
  auto other = parse_site_url("https://intranet.example.com/sites/Sales", false);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "sharepoint.bad_site_url");
  EXPECT_EQ(other.error().details.at("key"), "site");
  EXPECT_NE(other.error().hint.find("https://contoso.sharepoint.com/sites/Sales"),
            std::string::npos);

  auto graph = parse_site_url("https://graph.microsoft.com/v1.0/sites/root", false);
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.error().hint.find("Microsoft Graph URL"), std::string::npos);

  auto http = parse_site_url("http://contoso.sharepoint.com/sites/Sales", false);
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.error().message.find("https://"), std::string::npos);

  auto not_url = parse_site_url("contoso.sharepoint.com/sites/Sales", false);
  ASSERT_FALSE(not_url.ok());
  EXPECT_NE(not_url.error().message.find("not a URL"), std::string::npos);
}

TEST(SiteAddress, AnyHostWhenGraphIsOverridden) {
  auto site = parse_site_url("https://intranet.example.com:8443/sites/Sales", true);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->host, "intranet.example.com:8443");
}

TEST(SiteAddress, HostAndPathAsInTheManualFlow) {
  auto site = site_from_host_path("contoso.sharepoint.com", "sites/Sales", false);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->path, "/sites/Sales");
  auto bad = site_from_host_path("https://contoso.sharepoint.com", "/sites/Sales", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().details.at("key"), "host");
}

TEST(GraphScope, NationalCloudsUseTheirOwnResourceOthersGlobalGraph) {
  EXPECT_EQ(graph_scope("https://graph.microsoft.com/v1.0"),
            "https://graph.microsoft.com/.default");
  EXPECT_EQ(graph_scope("https://graph.microsoft.us/v1.0"), "https://graph.microsoft.us/.default");
  EXPECT_EQ(graph_scope("https://microsoftgraph.chinacloudapi.cn/v1.0"),
            "https://microsoftgraph.chinacloudapi.cn/.default");
  EXPECT_EQ(graph_scope("http://127.0.0.1:4000/v1.0"), "https://graph.microsoft.com/.default");
}

TEST(NextLink, BeforeTheRecords) {
  auto link = find_next_link(
      R"({"@odata.context":"x","@odata.nextLink":"https:\/\/g\/items?a=1\u0026$skiptoken=UGF","value":[{"id":"1"}]})");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(*link, "https://g/items?a=1&$skiptoken=UGF");
}

TEST(NextLink, AfterTheRecords) {
  auto link = find_next_link(
      R"({"value":[{"id":"1","t":"\"@odata.nextLink\": \"no\""}],"@odata.nextLink":"https://g/2"})");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(*link, "https://g/2");
}

TEST(NextLink, AbsentOnTheLastPageEvenWhenARecordMentionsIt) {
  auto link = find_next_link(R"({"value":[{"id":"1","note":"\"@odata.nextLink\":\"x\""}]})");
  ASSERT_TRUE(link.ok());
  EXPECT_FALSE(link->has_value());
}

TEST(NextLink, TruncatedOrNotAnObjectIsAnError) {
  EXPECT_FALSE(find_next_link(R"({"@odata.nextLink":"https://g/it)").ok());
  EXPECT_FALSE(find_next_link(R"({"@odata.con)").ok());
  EXPECT_FALSE(find_next_link("<html>").ok());
  EXPECT_EQ(find_next_link("").error().code, "sharepoint.bad_page");
}

}  // namespace
}  // namespace extdata::sources::sharepoint
