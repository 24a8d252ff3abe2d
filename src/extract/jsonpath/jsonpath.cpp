// Evaluation of compiled JSONPath queries over simdjson DOM elements (RFC 9535 section 2).
#include "extract/jsonpath/jsonpath.h"

#include <algorithm>
#include <cstdio>

#include "core/limits.h"
#include "extract/jsonpath/jsonpath_ast.h"
#include "extract/jsonpath/jsonpath_parse.h"
#include "extract/utf8.h"

namespace extdata::extract {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using namespace jsonpath_detail;

// A node without its location: the fast mode.
struct PlainNode {
  element value;
  PlainNode with(element child, std::string_view) const { return {child}; }
  PlainNode with(element child, size_t) const { return {child}; }
};

// A node with its normalized path, for select_paths().
struct PathNode {
  element value;
  std::string path;
  PathNode with(element child, std::string_view name) const {
    PathNode node{child, path};
    append_normalized_name(node.path, name);
    return node;
  }
  PathNode with(element child, size_t index) const {
    PathNode node{child, path};
    node.path += '[';
    node.path += std::to_string(index);
    node.path += ']';
    return node;
  }
};

// A filter-expression value: Nothing, a document node, or a literal / computed value.
struct Value {
  enum Kind : uint8_t { kNothing, kNode, kNull, kBool, kNumber, kString } kind = kNothing;
  element node;
  bool boolean = false;
  Number number;
  std::string_view string;
};

Value from_literal(const Literal& literal) {
  Value v;
  switch (literal.kind) {
    case Literal::kNull:
      v.kind = Value::kNull;
      break;
    case Literal::kTrue:
      v.kind = Value::kBool, v.boolean = true;
      break;
    case Literal::kFalse:
      v.kind = Value::kBool, v.boolean = false;
      break;
    case Literal::kNumber:
      v.kind = Value::kNumber, v.number = literal.number;
      break;
    case Literal::kString:
      v.kind = Value::kString, v.string = literal.string;
      break;
  }
  return v;
}

// Turns scalar document nodes into scalar Values, so that comparisons see one representation.
Value normalize(const Value& in) {
  if (in.kind != Value::kNode) return in;
  Value v;
  switch (in.node.type()) {
    case element_type::NULL_VALUE:
      v.kind = Value::kNull;
      return v;
    case element_type::BOOL:
      v.kind = Value::kBool, v.boolean = in.node.get_bool().value_unsafe();
      return v;
    case element_type::INT64: {
      const int64_t i = in.node.get_int64().value_unsafe();
      v.kind = Value::kNumber, v.number = {true, i, static_cast<double>(i)};
      return v;
    }
    case element_type::UINT64: {
      const uint64_t u = in.node.get_uint64().value_unsafe();
      v.kind = Value::kNumber, v.number = {false, 0, static_cast<double>(u)};
      return v;
    }
    case element_type::DOUBLE:
      v.kind = Value::kNumber, v.number = {false, 0, in.node.get_double().value_unsafe()};
      return v;
    case element_type::STRING:
      v.kind = Value::kString, v.string = in.node.get_string().value_unsafe();
      return v;
    default:
      return in;  // arrays and objects stay nodes
  }
}

bool numbers_equal(const Number& a, const Number& b) {
  if (a.is_integer && b.is_integer) return a.integer == b.integer;
  return a.real == b.real;
}
bool number_less(const Number& a, const Number& b) {
  if (a.is_integer && b.is_integer) return a.integer < b.integer;
  return a.real < b.real;
}

bool nodes_equal(element a, element b);

bool values_equal(const Value& left, const Value& right) {
  const Value a = normalize(left), b = normalize(right);
  if (a.kind == Value::kNothing || b.kind == Value::kNothing) return a.kind == b.kind;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::kNull:
      return true;
    case Value::kBool:
      return a.boolean == b.boolean;
    case Value::kNumber:
      return numbers_equal(a.number, b.number);
    case Value::kString:
      return a.string == b.string;
    case Value::kNode:
      return nodes_equal(a.node, b.node);
    default:
      return false;
  }
}

bool nodes_equal(element a, element b) {
  const element_type ta = a.type(), tb = b.type();
  if (ta == element_type::ARRAY && tb == element_type::ARRAY) {
    simdjson::dom::array x = a.get_array().value_unsafe(), y = b.get_array().value_unsafe();
    auto i = x.begin(), j = y.begin();
    for (; i != x.end() && j != y.end(); ++i, ++j) {
      if (!nodes_equal(*i, *j)) return false;
    }
    return i == x.end() && j == y.end();
  }
  if (ta == element_type::OBJECT && tb == element_type::OBJECT) {
    simdjson::dom::object x = a.get_object().value_unsafe(), y = b.get_object().value_unsafe();
    if (x.size() != y.size()) return false;
    for (auto field : x) {
      element other;
      if (y.at_key(field.key).get(other) != simdjson::SUCCESS) return false;
      if (!nodes_equal(field.value, other)) return false;
    }
    return true;
  }
  Value va, vb;
  va.kind = vb.kind = Value::kNode;
  va.node = a, vb.node = b;
  const Value na = normalize(va), nb = normalize(vb);
  if (na.kind == Value::kNode || nb.kind == Value::kNode) return false;
  return values_equal(na, nb);
}

bool values_less(const Value& left, const Value& right) {
  const Value a = normalize(left), b = normalize(right);
  if (a.kind == Value::kNumber && b.kind == Value::kNumber) return number_less(a.number, b.number);
  // UTF-8 byte order equals Unicode scalar value order.
  if (a.kind == Value::kString && b.kind == Value::kString) return a.string < b.string;
  return false;
}

bool compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return values_equal(a, b);
    case CompareOp::kNe:
      return !values_equal(a, b);
    case CompareOp::kLt:
      return values_less(a, b);
    case CompareOp::kGt:
      return values_less(b, a);
    case CompareOp::kLe:
      return values_less(a, b) || values_equal(a, b);
    case CompareOp::kGe:
      return values_less(b, a) || values_equal(a, b);
  }
  return false;
}

// Array element i, or nothing. Negative i counts from the end.
bool array_at(simdjson::dom::array array, int64_t index, element& out, size_t& resolved) {
  const int64_t size = static_cast<int64_t>(array.size());
  if (index < 0) index += size;
  if (index < 0 || index >= size) return false;
  resolved = static_cast<size_t>(index);
  return array.at(resolved).get(out) == simdjson::SUCCESS;
}

// Walks a singular query (names and indices only): no allocation.
bool walk_singular(const Query& query, element node, element& out) {
  for (const Segment& segment : query.segments) {
    const Selector& selector = segment.selectors[0];
    if (selector.kind == Selector::kName) {
      simdjson::dom::object object;
      if (node.get_object().get(object) != simdjson::SUCCESS) return false;
      if (object.at_key(selector.name).get(node) != simdjson::SUCCESS) return false;
    } else {
      simdjson::dom::array array;
      if (node.get_array().get(array) != simdjson::SUCCESS) return false;
      size_t ignored;
      if (!array_at(array, selector.index, node, ignored)) return false;
    }
  }
  out = node;
  return true;
}

// What one node costs against limits().jsonpath_max_nodes: one, plus one per 32 bytes of its
// normalized path (select_paths() keeps a path per node).
size_t cost(const PlainNode&) {
  return 1;
}
size_t cost(const PathNode& node) {
  return 1 + node.path.size() / 32;
}

class Evaluator {
 public:
  explicit Evaluator(element root) : root_(root) {}

  template <typename Node>
  void run(const Query& query, std::vector<Node>& nodes) const {
    std::vector<Node> next;
    for (const Segment& segment : query.segments) {
      next.clear();
      for (const Node& node : nodes) {
        if (exceeded_) break;
        if (segment.descendant) {
          descend(segment, node, next);
        } else {
          for (const Selector& selector : segment.selectors) apply(selector, node, next);
        }
      }
      nodes.swap(next);
      if (exceeded_) nodes.clear();
      if (nodes.empty()) return;
    }
  }

  // The evaluation stopped at limits().jsonpath_max_nodes or at a regex over its budget
  // (failure()); its result is empty.
  bool exceeded() const { return exceeded_; }
  const std::optional<Error>& failure() const { return failure_; }

 private:
  // Counts `units` of work; false (and exceeded() from then on) past the limit.
  bool spend(size_t units) const {
    spent_ += units;
    if (spent_ > limits().jsonpath_max_nodes) exceeded_ = true;
    return !exceeded_;
  }

  template <typename Node>
  void add(std::vector<Node>& out, Node&& node) const {
    if (spend(cost(node))) out.push_back(std::move(node));
  }

  template <typename Node>
  void descend(const Segment& segment, const Node& node, std::vector<Node>& out) const {
    if (!spend(cost(node))) return;
    for (const Selector& selector : segment.selectors) apply(selector, node, out);
    simdjson::dom::array array;
    simdjson::dom::object object;
    if (node.value.get_array().get(array) == simdjson::SUCCESS) {
      size_t i = 0;
      for (element child : array) descend(segment, node.with(child, i++), out);
    } else if (node.value.get_object().get(object) == simdjson::SUCCESS) {
      for (auto field : object) descend(segment, node.with(field.value, field.key), out);
    }
  }

  template <typename Node>
  void apply(const Selector& selector, const Node& node, std::vector<Node>& out) const {
    switch (selector.kind) {
      case Selector::kName: {
        simdjson::dom::object object;
        element child;
        if (node.value.get_object().get(object) == simdjson::SUCCESS &&
            object.at_key(selector.name).get(child) == simdjson::SUCCESS) {
          add(out, node.with(child, std::string_view(selector.name)));
        }
        return;
      }
      case Selector::kWildcard: {
        simdjson::dom::array array;
        simdjson::dom::object object;
        if (node.value.get_array().get(array) == simdjson::SUCCESS) {
          size_t i = 0;
          for (element child : array) add(out, node.with(child, i++));
        } else if (node.value.get_object().get(object) == simdjson::SUCCESS) {
          for (auto field : object) add(out, node.with(field.value, field.key));
        }
        return;
      }
      case Selector::kIndex: {
        simdjson::dom::array array;
        element child;
        size_t index;
        if (node.value.get_array().get(array) == simdjson::SUCCESS &&
            array_at(array, selector.index, child, index)) {
          add(out, node.with(child, index));
        }
        return;
      }
      case Selector::kSlice:
        slice(selector, node, out);
        return;
      case Selector::kFilter: {
        simdjson::dom::array array;
        simdjson::dom::object object;
        if (node.value.get_array().get(array) == simdjson::SUCCESS) {
          size_t i = 0;
          for (element child : array) {
            if (test(*selector.filter, child)) add(out, node.with(child, i));
            ++i;
          }
        } else if (node.value.get_object().get(object) == simdjson::SUCCESS) {
          for (auto field : object) {
            if (test(*selector.filter, field.value)) add(out, node.with(field.value, field.key));
          }
        }
        return;
      }
    }
  }

  template <typename Node>
  void slice(const Selector& selector, const Node& node, std::vector<Node>& out) const {
    simdjson::dom::array array;
    if (node.value.get_array().get(array) != simdjson::SUCCESS || selector.step == 0) return;
    // dom::array has no random access, so index it once.
    std::vector<element> items(array.begin(), array.end());
    const int64_t length = static_cast<int64_t>(items.size());
    const int64_t step = selector.step;
    const auto normalize_index = [&](int64_t i) { return i >= 0 ? i : length + i; };
    if (step > 0) {
      const int64_t start = normalize_index(selector.start.value_or(0));
      const int64_t end = normalize_index(selector.end.value_or(length));
      const int64_t lower = std::min(std::max(start, int64_t{0}), length);
      const int64_t upper = std::min(std::max(end, int64_t{0}), length);
      for (int64_t i = lower; i < upper; i += step)
        add(out, node.with(items[i], static_cast<size_t>(i)));
    } else {
      const int64_t start = normalize_index(selector.start.value_or(length - 1));
      const int64_t end = normalize_index(selector.end.value_or(-length - 1));
      const int64_t upper = std::min(std::max(start, int64_t{-1}), length - 1);
      const int64_t lower = std::min(std::max(end, int64_t{-1}), length - 1);
      for (int64_t i = upper; lower < i; i += step)
        add(out, node.with(items[i], static_cast<size_t>(i)));
    }
  }

  // The nodelist of a query in a filter (relative to `current` or to the root).
  void nodes(const Query& query, element current, std::vector<element>& out) const {
    const element start = query.relative ? current : root_;
    if (query.singular) {
      element found;
      if (walk_singular(query, start, found)) out.push_back(found);
      return;
    }
    std::vector<PlainNode> list{PlainNode{start}};
    run(query, list);
    for (const PlainNode& node : list) out.push_back(node.value);
  }

  bool exists(const Query& query, element current) const {
    const element start = query.relative ? current : root_;
    if (query.singular) {
      element found;
      return walk_singular(query, start, found);
    }
    std::vector<PlainNode> list{PlainNode{start}};
    run(query, list);
    return !list.empty();
  }

  Value value(const Expr& expr, element current) const {
    switch (expr.kind) {
      case Expr::kLiteral:
        return from_literal(expr.literal);
      case Expr::kQuery: {
        Value v;
        element found;
        if (walk_singular(*expr.query, expr.query->relative ? current : root_, found)) {
          v.kind = Value::kNode;
          v.node = found;
        }
        return v;
      }
      case Expr::kFunction:
        return call(expr, current);
      default:
        return {};
    }
  }

  Value call(const Expr& expr, element current) const {
    Value result;
    switch (expr.function) {
      case Function::kLength: {
        const Value arg = normalize(value(expr.children[0], current));
        if (arg.kind == Value::kString) {
          result.kind = Value::kNumber;
          const auto count = static_cast<int64_t>(utf8::count_code_points(arg.string));
          result.number = {true, count, static_cast<double>(count)};
        } else if (arg.kind == Value::kNode) {
          simdjson::dom::array array;
          simdjson::dom::object object;
          int64_t count = 0;
          if (arg.node.get_array().get(array) == simdjson::SUCCESS) {
            count = static_cast<int64_t>(array.size());
          } else if (arg.node.get_object().get(object) == simdjson::SUCCESS) {
            count = static_cast<int64_t>(object.size());
          }
          result.kind = Value::kNumber;
          result.number = {true, count, static_cast<double>(count)};
        }
        return result;
      }
      case Function::kCount: {
        std::vector<element> list;
        nodes(*expr.children[0].query, current, list);
        const auto count = static_cast<int64_t>(list.size());
        result.kind = Value::kNumber;
        result.number = {true, count, static_cast<double>(count)};
        return result;
      }
      case Function::kValue: {
        std::vector<element> list;
        nodes(*expr.children[0].query, current, list);
        if (list.size() == 1) {
          result.kind = Value::kNode;
          result.node = list[0];
        }
        return result;
      }
      case Function::kMatch:
      case Function::kSearch: {
        result.kind = Value::kBool;
        result.boolean = regex_test(expr, current);
        return result;
      }
    }
    return result;
  }

  bool regex_test(const Expr& expr, element current) const {
    const Value subject = normalize(value(expr.children[0], current));
    if (subject.kind != Value::kString) return false;
    const bool full = expr.function == Function::kMatch;
    if (expr.regex_literal) {
      if (!expr.regex) return false;
      return checked(expr.regex->match(subject.string, full));
    }
    const Value pattern = normalize(value(expr.children[1], current));
    if (pattern.kind != Value::kString) return false;
    auto compiled = IRegexp::compile(pattern.string);
    if (!compiled.ok()) return false;
    return checked(compiled->match(subject.string, full));
  }

  // A match over its budget stops the evaluation with that error.
  bool checked(Result<bool> matched) const {
    if (matched.ok()) return *matched;
    if (!failure_) failure_ = std::move(matched).error();
    exceeded_ = true;
    return false;
  }

 public:
  bool test(const Expr& expr, element current) const {
    switch (expr.kind) {
      case Expr::kOr:
        for (const Expr& child : expr.children) {
          if (test(child, current)) return true;
        }
        return false;
      case Expr::kAnd:
        for (const Expr& child : expr.children) {
          if (!test(child, current)) return false;
        }
        return true;
      case Expr::kNot:
        return !test(expr.children[0], current);
      case Expr::kCompare:
        return compare(expr.op, value(expr.children[0], current), value(expr.children[1], current));
      case Expr::kQuery:
        return exists(*expr.query, current);
      case Expr::kFunction:
        if (expr.function == Function::kMatch || expr.function == Function::kSearch) {
          return regex_test(expr, current);
        }
        return false;  // value-typed functions are rejected as tests at compile time
      case Expr::kLiteral:
        return false;
    }
    return false;
  }

 private:
  element root_;
  mutable size_t spent_ = 0;
  mutable bool exceeded_ = false;
  mutable std::optional<Error> failure_;
};

Error too_many_nodes(const std::string& expression) {
  return Error("jsonpath.too_many_nodes",
               "the JSONPath " + expression.substr(0, 200) + " selects or visits more than " +
                   std::to_string(limits().jsonpath_max_nodes) + " nodes",
               "Select less (fewer descendant segments '..'); evaluation stops at " +
                   describe_limit(&Limits::jsonpath_max_nodes) + ".")
      .with("limit", "jsonpath_max_nodes");
}

}  // namespace

void append_normalized_name(std::string& path, std::string_view name) {
  path += "['";
  for (char c : name) {
    switch (c) {
      case '\b':
        path += "\\b";
        break;
      case '\f':
        path += "\\f";
        break;
      case '\n':
        path += "\\n";
        break;
      case '\r':
        path += "\\r";
        break;
      case '\t':
        path += "\\t";
        break;
      case '\'':
        path += "\\'";
        break;
      case '\\':
        path += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          path += buffer;
        } else {
          path += c;
        }
    }
  }
  path += "']";
}

Result<JsonPath> JsonPath::compile(std::string_view expression) {
  EXTDATA_ASSIGN_OR_RETURN(auto query, jsonpath_detail::parse_jsonpath(expression));
  JsonPath path;
  path.query_ = std::move(query);
  path.text_ = std::string(expression);
  return path;
}

bool JsonPath::is_singular() const {
  return query_->singular;
}

std::optional<std::vector<JsonPath::Step>> JsonPath::singular_steps() const {
  if (!query_->singular) return std::nullopt;
  std::vector<Step> steps;
  for (const Segment& segment : query_->segments) {
    const Selector& selector = segment.selectors[0];
    Step step;
    step.is_index = selector.kind == Selector::kIndex;
    step.name = selector.name;
    step.index = selector.index;
    steps.push_back(step);
  }
  return steps;
}

Status JsonPath::select(element root, std::vector<element>& out) const {
  if (query_->singular) {
    element found;
    if (walk_singular(*query_, root, found)) out.push_back(found);
    return ok_status();
  }
  std::vector<PlainNode> nodes{PlainNode{root}};
  Evaluator evaluator(root);
  evaluator.run(*query_, nodes);
  if (evaluator.exceeded()) return evaluator.failure().value_or(too_many_nodes(text_));
  // Geometric growth: a RecordSet appends page after page to the same vector, and an exact
  // reserve would copy it whole for every page.
  if (out.capacity() < out.size() + nodes.size())
    out.reserve(std::max(out.size() + nodes.size(), 2 * out.capacity()));
  for (const PlainNode& node : nodes) out.push_back(node.value);
  return ok_status();
}

Result<std::vector<element>> JsonPath::select(element root) const {
  std::vector<element> out;
  EXTDATA_TRY(select(root, out));
  return out;
}

std::optional<element> JsonPath::first(element root) const {
  if (query_->singular) {
    element found;
    if (walk_singular(*query_, root, found)) return found;
    return std::nullopt;
  }
  std::vector<element> out;
  if (!select(root, out).ok() || out.empty()) return std::nullopt;
  return out.front();
}

Result<std::vector<std::string>> JsonPath::select_paths(element root) const {
  std::vector<PathNode> nodes{PathNode{root, "$"}};
  Evaluator evaluator(root);
  evaluator.run(*query_, nodes);
  if (evaluator.exceeded()) return evaluator.failure().value_or(too_many_nodes(text_));
  std::vector<std::string> paths;
  paths.reserve(nodes.size());
  for (PathNode& node : nodes) paths.push_back(std::move(node.path));
  return paths;
}

}  // namespace extdata::extract
