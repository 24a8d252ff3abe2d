#pragma once
// JSONPath (RFC 9535) compiled once, evaluated many times over simdjson DOM documents.
//
//   auto path = JsonPath::compile("$.value[?@.fields.Country == 'DE'].fields.Title");
//   if (!path) { /* path.error().message: "JSONPath error at 7: expected ']'" */ }
//   std::vector<simdjson::dom::element> matches;
//   path->select(document_root, matches);        // appends; elements point into the document
//   std::vector<std::string> where = path->select_paths(document_root);  // "$['value'][0]..."
//
// Supported: root `$`, child and descendant segments, name / wildcard / index / slice /
// filter selectors, comparisons, &&, ||, !, parentheses, existence tests and the functions
// length(), count(), match(), search() and value() (I-Regexp, RFC 9485).
//
// Limits (reported as errors, never a crash): expressions longer than kMaxExpressionLength
// bytes, nesting (parentheses, filters inside filters, function calls) deeper than
// kMaxNesting, and evaluations that select or visit more than limits().jsonpath_max_nodes
// nodes (core/limits.h). Evaluation recursion is bounded by the document depth, which simdjson caps
// at its parser's max depth (1024 by default).
//
// A JsonPath is immutable and cheap to copy (shared compiled form); select() is const and may
// run concurrently on different documents.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace extdata::extract {

namespace jsonpath_detail {
struct Query;
}

class JsonPath {
 public:
  static constexpr size_t kMaxExpressionLength = 64 * 1024;
  static constexpr int kMaxNesting = 64;

  // Errors: code "jsonpath.syntax" (message "JSONPath error at N: expected ...", N being the
  // 0-based byte offset into the expression, also in details["position"]) or "jsonpath.type"
  // (a well-formed expression that RFC 9535's type rules reject, e.g. length(@.a) as a test).
  static Result<JsonPath> compile(std::string_view expression);

  const std::string& text() const { return text_; }

  // True when the path can select at most one node ($.a.b[0]['c']): only name and index
  // selectors, one per child segment. Such paths are evaluated by a direct walk (first()).
  bool is_singular() const;

  // The name / index steps of a singular path (see is_singular()), for callers that walk many
  // paths at once (RecordSet shares the common prefixes of its columns); nullopt otherwise.
  struct Step {
    bool is_index = false;
    std::string_view name;
    int64_t index = 0;
  };
  std::optional<std::vector<Step>> singular_steps() const;

  // Appends the matched nodes to `out`, in RFC 9535 order. Nothing is copied: the elements
  // refer to the document that `root` belongs to, which must outlive them.
  // Error "jsonpath.too_many_nodes" (nothing appended) when the evaluation selects or visits
  // more than limits().jsonpath_max_nodes nodes: `$..*..*..*` over a deep document would
  // otherwise grow cubically.
  Status select(simdjson::dom::element root, std::vector<simdjson::dom::element>& out) const;
  Result<std::vector<simdjson::dom::element>> select(simdjson::dom::element root) const;

  // The first matched node, if any. Allocation-free for singular paths (the hot path of
  // record columns). A non-singular path over the node limit finds nothing.
  std::optional<simdjson::dom::element> first(simdjson::dom::element root) const;

  // The normalized paths (RFC 9535 section 2.7) of the matched nodes, same order as select().
  // Each node counts against the node limit with one more unit per 32 bytes of its path.
  Result<std::vector<std::string>> select_paths(simdjson::dom::element root) const;

 private:
  std::shared_ptr<const jsonpath_detail::Query> query_;
  std::string text_;
};

// Appends `['name']` with the escaping of RFC 9535 normalized paths.
void append_normalized_name(std::string& path, std::string_view name);

}  // namespace extdata::extract
