#pragma once
// What a source sends its requests through, built the same way for every kind from the
// source's settings: the HTTP client (total timeout, connect timeout clamped to it, CA
// bundle, counters labelled with the source name), the credential, and the client that
// applies the credential to each request (and retries once after a 401). A kind adds only
// what is its own (SharePoint builds its oauth2 settings from tenant and authority).
//
// Fetch counters are the same for every kind as well: count_fetch() below.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/authenticated_client.h"
#include "auth/credential.h"
#include "http/curl_client.h"
#include "sources/source.h"

namespace extdata::sources {

// CurlOptions from a source's settings: timeout (default 60 s; the connect timeout never
// exceeds it), ca_bundle, follow_redirects, and the source name as the counters' label.
http::CurlOptions curl_options(const config::SourceConfig& config);

struct TransportOptions {
  // The credential's settings: an `auth:` object (null or absent: no credential).
  nlohmann::json auth;
  // Where the credential's settings sit in the source, for errors: "auth." for a rest
  // source's `auth:` object, "" when they are the source's own keys; and keys renamed on
  // the way (SharePoint's `authority` becomes the token URL).
  std::string key_prefix;
  std::map<std::string, std::string> key_renames;
  bool sharepoint = false;  // the credential warns when no Sites.* role is granted
};

class Transport {
 public:
  static Result<Transport> build(const config::SourceConfig& config, const SourceDeps& deps,
                                 TransportOptions options);

  // Where requests go: authenticated unless the credential is `none`.
  http::HttpClient& client() { return authenticated_ ? *authenticated_ : *http_; }
  // The plain client (no credential), e.g. for tests that look at its options.
  const http::HttpClient& http() const { return *http_; }
  const std::shared_ptr<auth::Credential>& credential() const { return credential_; }

 private:
  std::shared_ptr<http::HttpClient> http_;
  std::shared_ptr<auth::Credential> credential_;
  std::unique_ptr<auth::AuthenticatedHttpClient> authenticated_;
};

// Runs one fetch in one of the source's fetch slots (fetch_slots.h: "source.busy" when none
// frees in time) and counts it: extdata_source_fetches_total{source} always,
// extdata_source_errors_total{source, code} and a warning in the log when it fails.
Result<std::shared_ptr<const extract::RecordSet>> count_fetch(
    Metrics& metrics, const std::string& source,
    const std::function<Result<std::shared_ptr<const extract::RecordSet>>()>& fetch);

// Ends a sync that succeeded: counts it (extdata_source_syncs_total{source, sync=full|incremental})
// and hands `report` to the caller when it asked for it (FetchRequest::sync).
void report_sync(Metrics& metrics, const std::string& source, const SyncReport& report,
                 const FetchRequest& request);

}  // namespace extdata::sources
