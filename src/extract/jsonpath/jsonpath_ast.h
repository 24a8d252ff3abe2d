#pragma once
// The compiled form of a JSONPath (internal to src/extract/jsonpath).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "extract/jsonpath/iregexp.h"

namespace extdata::extract::jsonpath_detail {

struct Expr;

struct Selector {
  enum Kind : uint8_t { kName, kWildcard, kIndex, kSlice, kFilter } kind = kName;
  std::string name;                    // kName (unescaped)
  int64_t index = 0;                   // kIndex
  std::optional<int64_t> start, end;   // kSlice
  int64_t step = 1;                    // kSlice
  std::shared_ptr<const Expr> filter;  // kFilter
};

struct Segment {
  bool descendant = false;
  std::vector<Selector> selectors;
};

struct Query {
  bool relative = false;  // '@' instead of '$'
  bool singular = false;  // only child segments with one name or index selector each
  std::vector<Segment> segments;
};

struct Number {
  bool is_integer = false;
  int64_t integer = 0;
  double real = 0;
};

struct Literal {
  enum Kind : uint8_t { kNull, kTrue, kFalse, kNumber, kString } kind = kNull;
  Number number;
  std::string string;
};

enum class Function : uint8_t { kLength, kCount, kMatch, kSearch, kValue };
enum class ValueKind : uint8_t { kValue, kLogical, kNodes };  // RFC 9535 function types
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Expr {
  enum Kind : uint8_t { kOr, kAnd, kNot, kCompare, kLiteral, kQuery, kFunction } kind = kLiteral;
  size_t position = 0;  // where it starts in the expression text, for errors
  CompareOp op = CompareOp::kEq;
  Function function = Function::kLength;
  std::vector<Expr> children;  // operands or function arguments
  Literal literal;
  std::shared_ptr<const Query> query;
  // match()/search() with a literal pattern: compiled once. Empty optional + regex_literal set =
  // the pattern is not a valid I-Regexp, so the function is always false.
  std::optional<IRegexp> regex;
  bool regex_literal = false;
};

}  // namespace extdata::extract::jsonpath_detail
