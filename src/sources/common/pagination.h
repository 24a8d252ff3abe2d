#pragma once
// Following pages: next link by JSONPath, RFC 8288 Link header, offset/limit, page number,
// cursor. Caps max_pages and max_records; a repeated next link or cursor ends the loop
// with a warning (never an infinite loop).
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "extract/jsonpath/jsonpath.h"
#include "http/http_client.h"

namespace extdata::sources {

// The rel="next" target of an RFC 8288 Link header value, if any.
std::optional<std::string> link_header_next(std::string_view header_value);

// Resolves a possibly relative reference against the URL it came from.
std::string resolve_url(std::string_view base, std::string_view reference);

// Sets (replaces or appends) a query parameter; name and value are query-encoded.
std::string with_query_param(std::string_view url, std::string_view name, std::string_view value);

class Paginator {
 public:
  enum class Type { none, next_link, link_header, offset, page, cursor };

  // `spec` is the validated `pagination` object (may be null). Errors name the key.
  static Result<Paginator> compile(const nlohmann::json& spec);

  Type type() const { return type_; }
  int max_pages() const { return max_pages_; }
  size_t max_records() const { return max_records_; }

  // Per fetch: the loop's memory (seen links and cursors, the position).
  struct State {
    std::set<std::string> seen;
    long long position = 0;
    int pages = 0;
    size_t records = 0;
  };

  // Adds the first page's parameters (offset/page/limit) to the request.
  void prepare_first(http::Request& request, State& state) const;

  // The request for the next page, or nullopt at the end. `body` is the parsed page (JSON
  // formats; null for others), `page_records` the records it held. Warnings say why a loop
  // stopped early (caps, repeated links). `state.pages` and `state.records` include this page.
  std::optional<http::Request> next(const http::Request& current, const http::Response& response,
                                    const simdjson::dom::element* body, size_t page_records,
                                    State& state, std::vector<std::string>& warnings) const;

 private:
  Type type_ = Type::none;
  std::optional<extract::JsonPath> next_path_;
  std::optional<extract::JsonPath> cursor_path_;
  std::string param_;
  std::string limit_param_;
  std::optional<long long> limit_;
  long long start_ = 0;
  int max_pages_ = 1000;
  size_t max_records_ = 1000000;
};

}  // namespace extdata::sources
