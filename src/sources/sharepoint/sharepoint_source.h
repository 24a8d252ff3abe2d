#pragma once
// type: sharepoint-list — the items of one SharePoint list through Microsoft Graph, with
// the client-credentials grant (docs/sharepoint.md). From the site URL a user pastes it
// derives the token URL, the scope and the Graph site path, resolves (and caches) the site
// and list ids, and fetches items?$expand=fields following every @odata.nextLink. A record
// is the Graph list item; templates reach columns as {fields.Title}.
// With `sync: delta` (the default) it reads items/delta instead and, given the last sync's
// records and delta link (FetchRequest::previous), only the changes since (delta.h).
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sources/common/transport.h"
#include "sources/sharepoint/graph_errors.h"
#include "sources/sharepoint/site_address.h"
#include "sources/source.h"

namespace extdata::sources::sharepoint {

struct SiteInfo {
  std::string id;  // host,siteCollectionGuid,webGuid
  std::string display_name;
  std::string web_url;
};

struct ListInfo {
  std::string id;
  std::string display_name;  // the title users see and may put in `list`
  std::string name;          // URL name (Lists/{name})
  std::string description;
  std::string web_url;
  std::string template_name;  // genericList, documentLibrary ...
  bool hidden = false;
};

struct ColumnInfo {
  std::string display_name;  // "Account manager"
  std::string name;          // internal name: "Account_x0020_Manager"
  std::string type;          // Graph facet: text, number, choice, personOrGroup, lookup ...
  bool indexed = false;
  bool hidden = false;
  bool read_only = false;
  // The key under `fields` in item records: person and lookup columns appear as
  // {name}LookupId.
  std::string field_key;
};

class SharePointSource final : public Source {
 public:
  static Result<std::shared_ptr<SharePointSource>> create(const config::SourceConfig& config,
                                                          const SourceDeps& deps);

  const config::SourceConfig& config() const override { return config_; }
  Result<std::shared_ptr<const extract::RecordSet>> fetch(const FetchRequest& request,
                                                          FetchTrace* trace = nullptr) override;
  std::vector<std::string> variable_names() const override { return {}; }
  std::shared_ptr<auth::Credential> credential() const override { return transport_->credential(); }
  std::vector<std::string> static_warnings() const override;

  // The site, resolved once per source object and cached.
  Result<SiteInfo> site(FetchTrace* trace = nullptr);
  // The site's lists (system lists left out), for `extdata sharepoint lists` and the UI.
  Result<std::vector<ListInfo>> lists(FetchTrace* trace = nullptr);
  // The configured list's columns, for `extdata sharepoint columns` and the UI.
  Result<std::vector<ColumnInfo>> columns(FetchTrace* trace = nullptr);

  const SiteAddress& site_address() const { return site_address_; }
  const std::string& graph_base() const { return graph_base_; }
  const std::string& token_url() const { return token_url_; }
  const std::string& scope() const { return scope_; }
  const Transport& transport() const { return *transport_; }
  // The first items page for a resolved site and list id.
  std::string items_url(const std::string& site_id, const std::string& list_id) const;
  // The start of a full delta sync (docs/sharepoint.md, "Delta sync").
  std::string delta_url(const std::string& site_id, const std::string& list_id) const;
  // Whether refreshes read changes only (`sync: delta`, the default, and no filter).
  bool syncs_delta() const { return delta_; }

  SharePointSource(const SharePointSource&) = delete;
  SharePointSource& operator=(const SharePointSource&) = delete;

 private:
  SharePointSource(const config::SourceConfig& config, const SourceDeps& deps);

  struct Page;
  Result<std::shared_ptr<const extract::RecordSet>> fetch_items(const FetchRequest& request,
                                                                FetchTrace* trace);
  extract::RecordSet new_record_set() const;
  Status read_pages(std::string url, extract::RecordSet& records, const FetchRequest& request,
                    FetchTrace* trace, SyncReport& report, bool stored_link);
  Result<http::Response> get(const std::string& url, const char* step, FetchTrace* trace,
                             bool keep_preview);
  Error graph_error(const http::Response& response, GraphStep step);
  Result<std::string> list_id(const std::string& site_id, FetchTrace* trace);
  Result<std::vector<ListInfo>> fetch_lists(const std::string& site_id, FetchTrace* trace);
  Error list_not_found(const std::string& site_id, FetchTrace* trace, const http::Response& r);
  std::string site_path(const std::string& site_id) const;

  config::SourceConfig config_;
  Clock& clock_;
  Metrics& metrics_;
  std::optional<Transport> transport_;

  SiteAddress site_address_;
  std::string site_text_;   // as configured, for messages
  std::string graph_base_;  // https://graph.microsoft.com/v1.0 (no trailing slash)
  std::string graph_origin_;
  std::string token_url_;
  std::string scope_;
  std::string list_ref_;
  std::vector<std::string> select_;
  std::string filter_;
  int page_size_ = 5000;
  bool delta_ = true;
  extract::JsonPath records_path_;
  std::vector<extract::ColumnSpec> columns_;

  std::mutex resolve_mu_;
  std::optional<SiteInfo> site_cache_;
  std::optional<std::string> list_id_cache_;
};

Result<std::shared_ptr<Source>> make_sharepoint_source(const config::SourceConfig& config,
                                                       const SourceDeps& deps);

// Shared by `extdata sharepoint lists|columns` and GET /api/v1/sources/{name}/sharepoint/...
// Errors with code sharepoint.not_sharepoint when the source is of another type.
Result<std::vector<ListInfo>> list_lists(Source& source, FetchTrace* trace = nullptr);
Result<std::vector<ColumnInfo>> list_columns(Source& source, FetchTrace* trace = nullptr);
nlohmann::json to_json(const std::vector<ListInfo>& lists);
nlohmann::json to_json(const std::vector<ColumnInfo>& columns);

// The value of the top-level "@odata.nextLink" of a Graph page, nullopt when absent.
// Looks before "value" (where Graph writes it) and in the tail after it; never parses the
// records. Error sharepoint.bad_page when the page is not a JSON object.
Result<std::optional<std::string>> find_next_link(std::string_view page);

// The scope for a Graph base URL: {origin}/.default for Microsoft's Graph hosts (global and
// national clouds), https://graph.microsoft.com/.default for anything else (simulators,
// gateways), which accept Graph's tokens.
std::string graph_scope(std::string_view graph_base);

}  // namespace extdata::sources::sharepoint
