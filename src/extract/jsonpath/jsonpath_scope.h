#pragma once
// What a compiled JSONPath looks at, for callers that evaluate it over parts of a document.
//
//   if (selects_per_element(filter)) { /* evaluate it over the changed records only */ }
#include "extract/jsonpath/jsonpath.h"

namespace extdata::extract {

// True when, over an array root, what `path` selects below each element depends on that element
// alone: no filter anywhere holds an absolute query ($...), and the first segment picks the
// root's elements by wildcard, filter or name, never by index or slice (a position depends on
// the other elements). The path may then be evaluated over any subset of the elements, each
// element getting the answer the whole array gives it. Decided from the compiled form
// (jsonpath_ast.h); a path that does not compile is false.
bool selects_per_element(const JsonPath& path);

}  // namespace extdata::extract
