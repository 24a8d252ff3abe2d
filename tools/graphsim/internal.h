#pragma once
// Helpers shared by graphsim's token endpoint, Graph routes and admin endpoint.
#include <string>
#include <string_view>

#include "core/strings.h"
#include "extract/json_text.h"

#include "fixture.h"
#include "graphsim.h"

namespace graphsim {

struct GraphSim::Context {
  std::string request_id;         // Graph request-id / Entra trace_id
  std::string client_request_id;  // echoed from the client-request-id header when sent
  std::string base_url;           // scheme://host:port as the client addressed us
  TimePoint now;
};

std::string random_guid();
using extdata::equals_ignore_case;
using extdata::lower;

// Appends `s` as a JSON string literal (quotes and escapes included).
using extdata::extract::append_json_string;
// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
std::string percent_encode(std::string_view s);

// "2026-01-09T02:02:12" as Graph's innerError.date shows it.
std::string graph_date(TimePoint t);
// "2026-01-09 02:02:12Z" as Entra's error timestamp shows it.
std::string entra_timestamp(TimePoint t);

// The client_id a token request names (body), "(none)" when absent.
std::string token_request_client_id(const Request& request);

}  // namespace graphsim
