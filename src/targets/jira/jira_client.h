#pragma once
// The Jira Cloud REST API v3 calls of a jira-field-options target, through extdata's HTTP
// client (network policy, retries honouring Retry-After on 429), and the translation of
// Jira's answers into Errors with a hint:
//   GET    /rest/api/3/field/{fieldId}/context                     (paginated)
//   GET    /rest/api/3/field/{fieldId}/context/{contextId}/option  (paginated)
//   POST   …/option   {"options":[{"value","disabled"}]}            (≤ 1000 per request)
//   PUT    …/option   {"options":[{"id","value","disabled"}]}       (≤ 1000 per request)
//   DELETE …/option/{optionId}
// Pages are read with startAt/maxResults until isLast (or total is reached).
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.h"
#include "http/http_client.h"

namespace extdata::targets::jira {

inline constexpr size_t kMaxBatch = 1000;        // Jira's cap of options per POST/PUT
inline constexpr size_t kMaxOptionLength = 255;  // Jira's cap of an option value (characters)

struct Context {
  std::string id;
  std::string name;
  bool global = false;
};

struct Option {
  std::string id;  // Jira's option id (empty for an option to create)
  std::string value;
  bool disabled = false;
};

class Client {
 public:
  // `base`: https://contoso.atlassian.net (no trailing slash needed).
  Client(http::HttpClient& http, std::string base, std::string field_id);

  Result<std::vector<Context>> contexts();
  Result<std::vector<Option>> options(const std::string& context);
  // POST: the created options, with their ids, in the order sent.
  Result<std::vector<Option>> create(const std::string& context, const std::vector<Option>& batch);
  // PUT by id (value and disabled).
  Status update(const std::string& context, const std::vector<Option>& batch);
  Status remove(const std::string& context, const std::string& option_id);

  size_t requests() const { return requests_; }  // HTTP requests sent (retries not counted)
  size_t writes() const { return writes_; }      // POST, PUT and DELETE among them

 private:
  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body, std::string_view what);
  template <typename Item, typename Parse>
  Result<std::vector<Item>> pages(const std::string& path, std::string_view what, Parse parse);

  http::HttpClient& http_;
  std::string base_;
  std::string field_id_;
  size_t requests_ = 0;
  size_t writes_ = 0;
};

// The Error for a Jira answer >= 400 to `what` ("reading the options of context 10142"):
// target.jira_unauthorized (401), target.jira_forbidden (403), target.jira_not_found (404),
// target.jira_throttled (429, details["retry_after"]), target.jira_rejected (400) or
// target.jira_failed, with Jira's errorMessages in the message and a hint what to do.
Error jira_error(const http::Response& response, std::string_view what);

}  // namespace extdata::targets::jira
