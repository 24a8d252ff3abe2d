// Recursive-descent parser for RFC 9535 JSONPath, producing jsonpath_detail::Query.
#include <cstdlib>
#include <string>

#include "extract/jsonpath/jsonpath.h"
#include "extract/jsonpath/jsonpath_ast.h"
#include "extract/jsonpath/jsonpath_parse.h"
#include "extract/utf8.h"

namespace extdata::extract::jsonpath_detail {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

const char* function_name(Function f) {
  switch (f) {
    case Function::kLength:
      return "length";
    case Function::kCount:
      return "count";
    case Function::kMatch:
      return "match";
    case Function::kSearch:
      return "search";
    case Function::kValue:
      return "value";
  }
  return "?";
}

ValueKind result_kind(Function f) {
  return (f == Function::kMatch || f == Function::kSearch) ? ValueKind::kLogical
                                                           : ValueKind::kValue;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::shared_ptr<const Query>> parse() {
    if (text_.size() > JsonPath::kMaxExpressionLength) {
      return Error("jsonpath.too_long",
                   "JSONPath error: the expression is " + std::to_string(text_.size()) +
                       " bytes long, more than the limit of " +
                       std::to_string(JsonPath::kMaxExpressionLength),
                   "shorten the expression");
    }
    if (at_end() || peek() != '$') return fail("expected '$' at the start of the path");
    auto query = std::make_shared<Query>();
    if (!parse_query(*query, 0)) return error_;
    if (!at_end()) {
      if (is_blank(peek())) return fail("unexpected whitespace at the end of the path");
      return fail("expected '.', '..' or '['");
    }
    return std::shared_ptr<const Query>(std::move(query));
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void skip_blanks() {
    while (!at_end() && is_blank(peek())) ++pos_;
  }

  Error fail(const std::string& what) { return fail_at(pos_, what); }
  Error fail_at(size_t position, const std::string& what, const char* code = "jsonpath.syntax") {
    if (error_.code.empty()) {
      error_ = Error(code, "JSONPath error at " + std::to_string(position) + ": " + what,
                     "see RFC 9535 for the JSONPath syntax");
      error_.with("position", std::to_string(position));
    }
    return error_;
  }
  bool failed(const std::string& what) {
    fail(what);
    return false;
  }
  bool type_error(size_t position, const std::string& what) {
    fail_at(position, what, "jsonpath.type");
    return false;
  }

  bool expect(char c) {
    if (peek() != c || at_end()) return failed(std::string("expected '") + c + "'");
    ++pos_;
    return true;
  }

  bool enter(int depth) {
    if (depth > JsonPath::kMaxNesting) {
      return failed("the expression is nested too deeply (limit " +
                    std::to_string(JsonPath::kMaxNesting) + ")");
    }
    return true;
  }

  // At '$' or '@'.
  bool parse_query(Query& query, int depth) {
    if (!enter(depth)) return false;
    query.relative = peek() == '@';
    ++pos_;
    while (true) {
      const size_t before_blanks = pos_;
      skip_blanks();
      if (at_end() || (peek() != '.' && peek() != '[')) {
        pos_ = before_blanks;
        break;
      }
      Segment segment;
      if (!parse_segment(segment, depth)) return false;
      query.segments.push_back(std::move(segment));
    }
    query.singular = true;
    for (const Segment& segment : query.segments) {
      if (segment.descendant || segment.selectors.size() != 1 ||
          (segment.selectors[0].kind != Selector::kName &&
           segment.selectors[0].kind != Selector::kIndex)) {
        query.singular = false;
      }
    }
    return true;
  }

  bool parse_segment(Segment& segment, int depth) {
    if (peek() == '[') return parse_bracketed(segment, depth);
    ++pos_;  // '.'
    if (peek() == '.') {
      ++pos_;
      segment.descendant = true;
      if (peek() == '[') return parse_bracketed(segment, depth);
    }
    Selector selector;
    if (peek() == '*') {
      ++pos_;
      selector.kind = Selector::kWildcard;
    } else {
      if (!parse_member_name(selector.name)) return false;
      selector.kind = Selector::kName;
    }
    segment.selectors.push_back(std::move(selector));
    return true;
  }

  bool parse_member_name(std::string& name) {
    const size_t start = pos_;
    while (!at_end()) {
      const char c = peek();
      if (is_alpha(c) || c == '_' || (is_digit(c) && pos_ > start)) {
        ++pos_;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        char32_t cp;
        size_t next = pos_;
        if (!utf8::decode(text_, next, cp)) return failed("invalid UTF-8 in member name");
        pos_ = next;
        continue;
      }
      break;
    }
    if (pos_ == start) return failed("expected a member name or '*' after '.'");
    name.assign(text_.substr(start, pos_ - start));
    return true;
  }

  bool parse_bracketed(Segment& segment, int depth) {
    ++pos_;  // '['
    while (true) {
      skip_blanks();
      Selector selector;
      if (!parse_selector(selector, depth)) return false;
      segment.selectors.push_back(std::move(selector));
      skip_blanks();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      if (peek() == ']' && !at_end()) {
        ++pos_;
        return true;
      }
      return failed("expected ',' or ']'");
    }
  }

  bool parse_selector(Selector& selector, int depth) {
    const char c = peek();
    if (at_end()) return failed("expected a selector");
    if (c == '\'' || c == '"') {
      selector.kind = Selector::kName;
      return parse_string(selector.name);
    }
    if (c == '*') {
      ++pos_;
      selector.kind = Selector::kWildcard;
      return true;
    }
    if (c == '?') {
      ++pos_;
      skip_blanks();
      auto filter = std::make_shared<Expr>();
      if (!parse_logical(*filter, depth + 1)) return false;
      selector.kind = Selector::kFilter;
      selector.filter = std::move(filter);
      return true;
    }
    if (c == '-' || is_digit(c) || c == ':') return parse_index_or_slice(selector);
    return failed("expected a selector (name, '*', index, slice or '?' filter)");
  }

  bool parse_integer(int64_t& value) {
    const size_t start = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (!is_digit(peek()) || at_end()) return failed("expected a digit");
    if (peek() == '0') {
      if (negative) return fail_at(start, "'-0' is not a valid integer"), false;
      ++pos_;
      if (is_digit(peek())) return fail_at(start, "leading zeros are not allowed"), false;
      value = 0;
      return true;
    }
    int64_t magnitude = 0;
    while (!at_end() && is_digit(peek())) {
      magnitude = magnitude * 10 + (peek() - '0');
      if (magnitude > kMaxSafeInteger) {
        return fail_at(start, "integer out of range (must be within +-(2^53-1))"), false;
      }
      ++pos_;
    }
    value = negative ? -magnitude : magnitude;
    return true;
  }

  bool parse_index_or_slice(Selector& selector) {
    std::optional<int64_t> first;
    if (peek() != ':') {
      int64_t value;
      if (!parse_integer(value)) return false;
      first = value;
      const size_t after = pos_;
      skip_blanks();
      if (peek() != ':') {
        pos_ = after;
        selector.kind = Selector::kIndex;
        selector.index = value;
        return true;
      }
    }
    ++pos_;  // ':'
    selector.kind = Selector::kSlice;
    selector.start = first;
    skip_blanks();
    if (peek() == '-' || is_digit(peek())) {
      int64_t value;
      if (!parse_integer(value)) return false;
      selector.end = value;
      skip_blanks();
    }
    if (peek() == ':') {
      ++pos_;
      skip_blanks();
      if (peek() == '-' || is_digit(peek())) {
        if (!parse_integer(selector.step)) return false;
      }
    }
    return true;
  }

  bool parse_hex4(char32_t& value) {
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      int digit;
      if (is_digit(c)) {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return failed("expected 4 hexadecimal digits after \\u");
      }
      value = value * 16 + static_cast<char32_t>(digit);
      ++pos_;
    }
    return true;
  }

  bool parse_string(std::string& out) {
    const char quote = peek();
    const size_t open = pos_;
    ++pos_;
    while (true) {
      if (at_end()) return fail_at(open, "unterminated string literal"), false;
      const char c = peek();
      if (c == quote) {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return failed("control character in string literal (escape it, e.g. \\n or \\u001f)");
      }
      if (c == '\\') {
        ++pos_;
        const char e = peek();
        if (at_end()) return failed("unterminated escape sequence");
        ++pos_;
        switch (e) {
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case '/':
            out.push_back('/');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case 'u': {
            char32_t cp;
            if (!parse_hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return failed("unpaired low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (peek() != '\\' || peek(1) != 'u')
                return failed("expected a low surrogate \\uDC00-\\uDFFF");
              pos_ += 2;
              char32_t low;
              if (!parse_hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF)
                return failed("expected a low surrogate \\uDC00-\\uDFFF");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            utf8::append(out, cp);
            break;
          }
          default:
            if (e == quote) {
              out.push_back(e);
              break;
            }
            pos_ -= 1;
            return failed(std::string("invalid escape '\\") + e + "'");
        }
        continue;
      }
      size_t next = pos_;
      char32_t cp;
      if (!utf8::decode(text_, next, cp)) return failed("invalid UTF-8 in string literal");
      out.append(text_.substr(pos_, next - pos_));
      pos_ = next;
    }
  }

  bool parse_number(Literal& literal) {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!is_digit(peek()) || at_end()) return failed("expected a digit");
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) return fail_at(start, "leading zeros are not allowed"), false;
    } else {
      while (is_digit(peek()) && !at_end()) ++pos_;
    }
    bool integral = true;
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) return failed("expected a digit after '.'");
      while (is_digit(peek()) && !at_end()) ++pos_;
      integral = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) return failed("expected a digit in the exponent");
      while (is_digit(peek()) && !at_end()) ++pos_;
      integral = false;
    }
    const std::string digits(text_.substr(start, pos_ - start));
    literal.kind = Literal::kNumber;
    literal.number.real = std::strtod(digits.c_str(), nullptr);
    if (integral && digits.size() <= 18) {
      literal.number.is_integer = true;
      literal.number.integer = std::strtoll(digits.c_str(), nullptr, 10);
    }
    return true;
  }

  // logical-or-expr
  bool parse_logical(Expr& out, int depth) {
    if (!enter(depth)) return false;
    out.position = pos_;
    Expr first;
    if (!parse_and(first, depth)) return false;
    while (true) {
      const size_t before = pos_;
      skip_blanks();
      if (peek() == '|' && peek(1) == '|') {
        pos_ += 2;
        skip_blanks();
        if (out.kind != Expr::kOr) {
          out.kind = Expr::kOr;
          out.children.push_back(std::move(first));
        }
        Expr next;
        if (!parse_and(next, depth)) return false;
        out.children.push_back(std::move(next));
        continue;
      }
      pos_ = before;
      break;
    }
    if (out.kind != Expr::kOr) out = std::move(first);
    return true;
  }

  bool parse_and(Expr& out, int depth) {
    out.position = pos_;
    Expr first;
    if (!parse_basic(first, depth)) return false;
    bool combined = false;
    while (true) {
      const size_t before = pos_;
      skip_blanks();
      if (peek() == '&' && peek(1) == '&') {
        pos_ += 2;
        skip_blanks();
        if (!combined) {
          combined = true;
          out.kind = Expr::kAnd;
          out.children.push_back(std::move(first));
        }
        Expr next;
        if (!parse_basic(next, depth)) return false;
        out.children.push_back(std::move(next));
        continue;
      }
      pos_ = before;
      break;
    }
    if (!combined) out = std::move(first);
    return true;
  }

  // basic-expr: a paren-expr, a comparison or a test, each checked for well-typedness.
  bool parse_basic(Expr& out, int depth) {
    const size_t start = pos_;
    if (peek() == '!' && !at_end()) {
      ++pos_;
      skip_blanks();
      Expr operand;
      if (peek() == '(') {
        if (!parse_paren(operand, depth)) return false;
      } else {
        if (!parse_primary(operand, depth)) return false;
        if (!check_test(operand)) return false;
      }
      out.kind = Expr::kNot;
      out.position = start;
      out.children.push_back(std::move(operand));
      return true;
    }
    if (peek() == '(') return parse_paren(out, depth);
    Expr left;
    if (!parse_primary(left, depth)) return false;
    const size_t after_left = pos_;
    skip_blanks();
    CompareOp op;
    if (parse_compare_op(op)) {
      skip_blanks();
      Expr right;
      if (!parse_primary(right, depth)) return false;
      if (!check_comparable(left) || !check_comparable(right)) return false;
      out.kind = Expr::kCompare;
      out.position = start;
      out.op = op;
      out.children.push_back(std::move(left));
      out.children.push_back(std::move(right));
      return true;
    }
    pos_ = after_left;
    if (!check_test(left)) return false;
    out = std::move(left);
    return true;
  }

  bool parse_paren(Expr& out, int depth) {
    ++pos_;  // '('
    skip_blanks();
    if (!parse_logical(out, depth + 1)) return false;
    skip_blanks();
    return expect(')');
  }

  bool parse_compare_op(CompareOp& op) {
    const char a = peek(), b = peek(1);
    if (a == '=' && b == '=')
      op = CompareOp::kEq;
    else if (a == '!' && b == '=')
      op = CompareOp::kNe;
    else if (a == '<' && b == '=')
      op = CompareOp::kLe;
    else if (a == '>' && b == '=')
      op = CompareOp::kGe;
    else if (a == '<')
      op = CompareOp::kLt;
    else if (a == '>')
      op = CompareOp::kGt;
    else
      return false;
    pos_ += (op == CompareOp::kLt || op == CompareOp::kGt) ? 1 : 2;
    return true;
  }

  // literal, filter query or function call.
  bool parse_primary(Expr& out, int depth) {
    out.position = pos_;
    const char c = peek();
    if (at_end()) return failed("expected a filter expression");
    if (c == '$' || c == '@') {
      auto query = std::make_shared<Query>();
      if (!parse_query(*query, depth + 1)) return false;
      out.kind = Expr::kQuery;
      out.query = std::move(query);
      return true;
    }
    if (c == '\'' || c == '"') {
      out.kind = Expr::kLiteral;
      out.literal.kind = Literal::kString;
      return parse_string(out.literal.string);
    }
    if (c == '-' || is_digit(c)) {
      out.kind = Expr::kLiteral;
      return parse_number(out.literal);
    }
    if (is_lower(c)) {
      const size_t start = pos_;
      while (!at_end() && (is_lower(peek()) || is_digit(peek()) || peek() == '_')) ++pos_;
      const std::string_view word = text_.substr(start, pos_ - start);
      if (peek() == '(') return parse_function(out, word, start, depth);
      out.kind = Expr::kLiteral;
      if (word == "true") {
        out.literal.kind = Literal::kTrue;
      } else if (word == "false") {
        out.literal.kind = Literal::kFalse;
      } else if (word == "null") {
        out.literal.kind = Literal::kNull;
      } else {
        return fail_at(start, "unknown name '" + std::string(word) +
                                  "' (expected true, false, null or a function call)"),
               false;
      }
      return true;
    }
    return failed("expected a filter expression (a query, literal or function call)");
  }

  bool parse_function(Expr& out, std::string_view name, size_t start, int depth) {
    if (name == "length")
      out.function = Function::kLength;
    else if (name == "count")
      out.function = Function::kCount;
    else if (name == "match")
      out.function = Function::kMatch;
    else if (name == "search")
      out.function = Function::kSearch;
    else if (name == "value")
      out.function = Function::kValue;
    else
      return fail_at(start, "unknown function '" + std::string(name) + "()'"), false;
    if (!enter(depth + 1)) return false;
    out.kind = Expr::kFunction;
    out.position = start;
    ++pos_;  // '('
    skip_blanks();
    if (peek() != ')') {
      while (true) {
        Expr argument;
        if (!parse_argument(argument, depth + 1)) return false;
        out.children.push_back(std::move(argument));
        skip_blanks();
        if (peek() == ',') {
          ++pos_;
          skip_blanks();
          continue;
        }
        break;
      }
    }
    if (!expect(')')) return false;
    return check_function(out);
  }

  // function-argument: literal / filter-query / logical-expr / function-expr. Parsed as a
  // logical expression without the test-expression check, which check_function() applies
  // according to the parameter types.
  bool parse_argument(Expr& out, int depth) {
    const size_t start = pos_;
    Expr first;
    if (peek() == '!' || peek() == '(') return parse_logical(out, depth);
    if (!parse_primary(first, depth)) return false;
    const size_t after = pos_;
    skip_blanks();
    if (peek() == ',' || peek() == ')') {
      pos_ = after;
      out = std::move(first);
      return true;
    }
    pos_ = start;
    return parse_logical(out, depth);
  }

  bool check_function(Expr& call) {
    const char* name = function_name(call.function);
    const size_t expected =
        (call.function == Function::kMatch || call.function == Function::kSearch) ? 2 : 1;
    if (call.children.size() != expected) {
      return type_error(call.position, std::string(name) + "() takes " + std::to_string(expected) +
                                           " argument" + (expected == 1 ? "" : "s") + ", not " +
                                           std::to_string(call.children.size()));
    }
    for (size_t i = 0; i < call.children.size(); ++i) {
      const Expr& arg = call.children[i];
      const bool wants_nodes =
          call.function == Function::kCount || call.function == Function::kValue;
      if (wants_nodes) {
        if (arg.kind != Expr::kQuery) {
          return type_error(arg.position,
                            std::string(name) + "() expects a query (nodes) as its argument");
        }
      } else if (!is_value_argument(arg)) {
        return type_error(arg.position, std::string(name) + "() argument " + std::to_string(i + 1) +
                                            " must be a value: a literal, a singular query or a "
                                            "function returning a value");
      }
    }
    if (call.function == Function::kMatch || call.function == Function::kSearch) {
      const Expr& pattern = call.children[1];
      if (pattern.kind == Expr::kLiteral && pattern.literal.kind == Literal::kString) {
        call.regex_literal = true;
        auto compiled = IRegexp::compile(pattern.literal.string);
        if (compiled.ok()) call.regex = std::move(compiled).value();
      }
    }
    return true;
  }

  static bool is_value_argument(const Expr& e) {
    switch (e.kind) {
      case Expr::kLiteral:
        return true;
      case Expr::kQuery:
        return e.query->singular;
      case Expr::kFunction:
        return result_kind(e.function) == ValueKind::kValue;
      default:
        return false;
    }
  }

  bool check_comparable(const Expr& e) {
    switch (e.kind) {
      case Expr::kLiteral:
        return true;
      case Expr::kQuery:
        if (e.query->singular) return true;
        return type_error(e.position, "only singular queries (names and indices) can be compared");
      case Expr::kFunction:
        if (result_kind(e.function) == ValueKind::kValue) return true;
        return type_error(e.position, std::string(function_name(e.function)) +
                                          "() returns a logical value and cannot be compared");
      default:
        return type_error(e.position, "expected a comparable value");
    }
  }

  bool check_test(const Expr& e) {
    switch (e.kind) {
      case Expr::kQuery:
        return true;
      case Expr::kFunction:
        if (result_kind(e.function) != ValueKind::kValue) return true;
        return type_error(e.position, std::string(function_name(e.function)) +
                                          "() returns a value: compare it (e.g. " +
                                          function_name(e.function) + "(...) > 0)");
      case Expr::kLiteral:
        return type_error(e.position, "a literal is not a test: compare it with something");
      default:
        return true;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  Error error_;
};

}  // namespace

Result<std::shared_ptr<const Query>> parse_jsonpath(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace extdata::extract::jsonpath_detail
