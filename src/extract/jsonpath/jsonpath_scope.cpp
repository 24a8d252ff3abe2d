#include "extract/jsonpath/jsonpath_scope.h"

#include "extract/jsonpath/jsonpath_parse.h"

namespace extdata::extract {
namespace {

using namespace jsonpath_detail;

bool has_root_query(const Query& query);

bool has_root_query(const Expr& expr) {
  if (expr.kind == Expr::kQuery && expr.query &&
      (!expr.query->relative || has_root_query(*expr.query))) {
    return true;
  }
  for (const Expr& child : expr.children) {
    if (has_root_query(child)) return true;
  }
  return false;
}

// A filter of the query, or of a query inside one of its filters, holds an absolute query.
bool has_root_query(const Query& query) {
  for (const Segment& segment : query.segments) {
    for (const Selector& selector : segment.selectors) {
      if (selector.kind == Selector::kFilter && selector.filter && has_root_query(*selector.filter))
        return true;
    }
  }
  return false;
}

}  // namespace

bool selects_per_element(const JsonPath& path) {
  // The compiled form is private to JsonPath; its text compiles to the same form again.
  auto compiled = parse_jsonpath(path.text());
  if (!compiled.ok()) return false;
  const Query& query = **compiled;
  if (query.segments.empty() || has_root_query(query)) return false;
  for (const Selector& selector : query.segments.front().selectors) {
    if (selector.kind == Selector::kIndex || selector.kind == Selector::kSlice) return false;
  }
  return true;
}

}  // namespace extdata::extract
