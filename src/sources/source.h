#pragma once
// The Source seam: a configured upstream that produces a RecordSet for a set of
// variable values. One folder per kind (rest/, sharepoint/), each declaring its type,
// settings table and factory (a SourceKind); one registration line in kinds.cpp. The cache
// and field service only see this interface.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/credential.h"
#include "config/catalog.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "extract/record_changes.h"
#include "extract/record_set.h"
#include "http/http_client.h"

namespace extdata::sources {

using Variables = std::map<std::string, std::string>;

// One HTTP exchange of a fetch, for `source test` and the UI (URL with secrets redacted).
struct StepTrace {
  std::string step;  // "resolve site", "items", or a rest step's name
  std::string method;
  std::string url;  // redacted
  long status = 0;
  double elapsed_ms = 0;
  int attempts = 1;
  std::string response_preview;  // first bytes of the body, redacted (the UI's raw viewer)
};

struct FetchTrace {
  std::vector<StepTrace> steps;
  int pages = 0;
  std::vector<std::string> warnings;  // secret expiry, missing roles, repeated next link, caps hit
};

struct Progress {
  int pages = 0;
  size_t records = 0;
};

// Incremental sync (a source that can ask its upstream for changes only, e.g. Graph's delta
// query): what the last sync left, and what this one did. Sources that cannot sync
// incrementally ignore `previous` and leave the report at its defaults (a full fetch).
struct SyncBase {
  std::shared_ptr<const extract::RecordSet> records;  // the records `cursor` describes
  std::string cursor;                                 // opaque (Graph: the @odata.deltaLink)
};

struct SyncReport {
  std::string mode = "full";                   // as configured: "full" | "delta"
  bool incremental = false;                    // changes were applied to SyncBase::records
  std::string cursor;                          // pass as SyncBase::cursor next time; "" = none
  size_t added = 0, updated = 0, removed = 0;  // incremental: what changed
  // incremental: which records changed against SyncBase::records (null: not known), so what
  // was built from those records can be patched instead of built again
  std::shared_ptr<const extract::RecordChanges> changes;
  size_t requests = 0;  // upstream pages read by this sync
  std::string note;     // why the sync was full although delta is configured (410, filter ...)
};

struct FetchRequest {
  Variables variables;                               // caller context (field, CLI --var, API)
  std::function<void(const Progress&)> on_progress;  // optional, called after each page
  SyncBase previous;                                 // optional: the last sync's result
  SyncReport* sync = nullptr;                        // optional: filled by the fetch
};

class Source {
 public:
  virtual ~Source() = default;
  virtual const config::SourceConfig& config() const = 0;

  // Fetches every page. `trace` (optional) is filled even when the fetch fails.
  virtual Result<std::shared_ptr<const extract::RecordSet>> fetch(const FetchRequest& request,
                                                                  FetchTrace* trace = nullptr) = 0;

  // The variables a caller may or must pass (declared or referenced by templates).
  virtual std::vector<std::string> variable_names() const = 0;

  // The credential behind the source (for `extdata auth` and the Authenticate button).
  virtual std::shared_ptr<auth::Credential> credential() const = 0;

  // Warnings known without fetching (secret expiry ...).
  virtual std::vector<std::string> static_warnings() const { return {}; }
};

// What sources share within a process.
struct SourceDeps {
  Clock& clock;
  Metrics& metrics;
  std::shared_ptr<auth::TokenCache> token_cache;
  // Builds the HTTP client for a source (tests inject fakes); by default CurlHttpClient
  // with the source's timeout and CA bundle.
  std::function<std::shared_ptr<http::HttpClient>(const config::SourceConfig&)> http_factory;
  // Where user grants keep their refresh tokens (auth/oauth2/grant_store.h); null: none.
  std::shared_ptr<auth::GrantStore> grants = nullptr;
};

using SourceFactory = Result<std::shared_ptr<Source>> (*)(const config::SourceConfig& config,
                                                          const SourceDeps& deps);
// One line saying what a configured source reads, for `extdata source list` ("sqlite
// /srv/data/crm.db", "https://contoso.sharepoint.com/sites/Sales → Customers"). No secrets.
using SourceSummary = std::string (*)(const config::SourceConfig& config);

// A source kind: what it declares to the catalog (type, title, description, settings table),
// how it is built and how a configured one is summed up. Each kind defines
// `const SourceKind& kinds::NAME()` in its folder; kinds.cpp lists them.
struct SourceKind {
  config::KindDecl declaration;
  SourceFactory create;
  SourceSummary summary;
};

// The kind's summary of a configured source (SourceKind::summary); "" for an unknown type.
std::string describe_source(const config::SourceConfig& config);

// Builds a source of the config's type; validates what the schema cannot (templates,
// JSONPaths, site URLs), with errors naming the key.
Result<std::shared_ptr<Source>> make_source(const config::SourceConfig& config,
                                            const SourceDeps& deps);

// A CurlHttpClient configured from a source's settings (timeout, ca_bundle).
std::shared_ptr<http::HttpClient> default_http_client(const config::SourceConfig& config,
                                                      Clock& clock, Metrics& metrics);

}  // namespace extdata::sources
