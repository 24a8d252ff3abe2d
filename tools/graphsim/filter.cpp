#include "filter.h"

#include <charconv>
#include <cmath>

#include "internal.h"

namespace graphsim {

using extdata::Error;

namespace {

struct Token {
  enum Type { End, Word, String, Number, LParen, RParen, Comma } type = End;
  std::string text;
  size_t pos = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<Token> next() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    Token t;
    t.pos = pos_;
    if (pos_ >= text_.size()) return t;
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      t.type = Token::LParen;
      return t;
    }
    if (c == ')') {
      ++pos_;
      t.type = Token::RParen;
      return t;
    }
    if (c == ',') {
      ++pos_;
      t.type = Token::Comma;
      return t;
    }
    if (c == '\'') {
      ++pos_;
      t.type = Token::String;
      while (true) {
        if (pos_ >= text_.size()) {
          return Error("graphsim.filter",
                       "Invalid filter clause: unterminated string at position " +
                           std::to_string(t.pos) + ".");
        }
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {
            t.text.push_back('\'');
            pos_ += 2;
            continue;
          }
          ++pos_;
          return t;
        }
        t.text.push_back(text_[pos_++]);
      }
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      t.type = Token::Number;
      size_t start = pos_++;
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
        ++pos_;
      }
      t.text = std::string(text_.substr(start, pos_ - start));
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.type = Token::Word;
      size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                     text_[pos_] == '_' || text_[pos_] == '/')) {
        ++pos_;
      }
      t.text = std::string(text_.substr(start, pos_ - start));
      return t;
    }
    return Error("graphsim.filter", "Invalid filter clause: unexpected '" + std::string(1, c) +
                                        "' at position " + std::to_string(pos_) + ".");
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const ListSpec& list, Filter& filter)
      : lexer_(text), list_(list), filter_(filter) {}

  Result<std::unique_ptr<Filter::Node>> parse() {
    EXTDATA_TRY(advance());
    EXTDATA_ASSIGN_OR_RETURN(auto node, parse_or());
    if (current_.type != Token::End) return unexpected();
    return node;
  }

 private:
  extdata::Status advance() {
    EXTDATA_ASSIGN_OR_RETURN(current_, lexer_.next());
    return {};
  }

  Error unexpected() const {
    std::string what = current_.type == Token::End ? "end of filter" : "'" + current_.text + "'";
    if (current_.type == Token::LParen) what = "'('";
    if (current_.type == Token::RParen) what = "')'";
    if (current_.type == Token::Comma) what = "','";
    return Error("graphsim.filter", "Invalid filter clause: unexpected " + what + " at position " +
                                        std::to_string(current_.pos) + ".");
  }

  bool is_word(std::string_view w) const {
    return current_.type == Token::Word && equals_ignore_case(current_.text, w);
  }

  Result<std::unique_ptr<Filter::Node>> parse_or() {
    EXTDATA_ASSIGN_OR_RETURN(auto left, parse_and());
    while (is_word("or")) {
      EXTDATA_TRY(advance());
      EXTDATA_ASSIGN_OR_RETURN(auto right, parse_and());
      auto node = std::make_unique<Filter::Node>();
      node->kind = Filter::Kind::Or;
      node->children.push_back(std::move(left));
      node->children.push_back(std::move(right));
      left = std::move(node);
    }
    return left;
  }

  Result<std::unique_ptr<Filter::Node>> parse_and() {
    EXTDATA_ASSIGN_OR_RETURN(auto left, parse_primary());
    while (is_word("and")) {
      EXTDATA_TRY(advance());
      EXTDATA_ASSIGN_OR_RETURN(auto right, parse_primary());
      auto node = std::make_unique<Filter::Node>();
      node->kind = Filter::Kind::And;
      node->children.push_back(std::move(left));
      node->children.push_back(std::move(right));
      left = std::move(node);
    }
    return left;
  }

  Result<int> field() {
    if (current_.type != Token::Word || current_.text.rfind("fields/", 0) != 0) {
      return Error("graphsim.filter",
                   "Invalid filter clause: list items are filtered on fields/{column}, at "
                   "position " +
                       std::to_string(current_.pos) + ".");
    }
    std::string name = current_.text.substr(7);
    for (size_t i = 0; i < list_.columns.size(); ++i) {
      const ColumnSpec& c = list_.columns[i];
      if (equals_ignore_case(c.name, name) || equals_ignore_case(c.field_key(), name)) {
        EXTDATA_TRY(advance());
        filter_.columns.push_back(static_cast<int>(i));
        return static_cast<int>(i);
      }
    }
    return Error("graphsim.filter", "Invalid filter clause: column '" + name +
                                        "' does not exist in list '" + list_.display_name + "'.");
  }

  Result<nlohmann::json> literal() {
    nlohmann::json value;
    if (current_.type == Token::String) {
      value = current_.text;
    } else if (current_.type == Token::Number) {
      double d = 0;
      auto [end, ec] =
          std::from_chars(current_.text.data(), current_.text.data() + current_.text.size(), d);
      if (ec != std::errc() || end != current_.text.data() + current_.text.size())
        return unexpected();
      value = d;
    } else if (is_word("true") || is_word("false")) {
      value = is_word("true");
    } else if (is_word("null")) {
      value = nullptr;
    } else {
      return unexpected();
    }
    EXTDATA_TRY(advance());
    return value;
  }

  Result<std::unique_ptr<Filter::Node>> parse_primary() {
    if (current_.type == Token::LParen) {
      EXTDATA_TRY(advance());
      EXTDATA_ASSIGN_OR_RETURN(auto inner, parse_or());
      if (current_.type != Token::RParen) return unexpected();
      EXTDATA_TRY(advance());
      return inner;
    }
    auto node = std::make_unique<Filter::Node>();
    if (is_word("startswith")) {
      EXTDATA_TRY(advance());
      if (current_.type != Token::LParen) return unexpected();
      EXTDATA_TRY(advance());
      EXTDATA_ASSIGN_OR_RETURN(node->column, field());
      if (current_.type != Token::Comma) return unexpected();
      EXTDATA_TRY(advance());
      if (current_.type != Token::String) return unexpected();
      EXTDATA_ASSIGN_OR_RETURN(node->literal, literal());
      if (current_.type != Token::RParen) return unexpected();
      EXTDATA_TRY(advance());
      node->kind = Filter::Kind::StartsWith;
      return node;
    }
    EXTDATA_ASSIGN_OR_RETURN(node->column, field());
    static const std::pair<const char*, Filter::Op> kOps[] = {
        {"eq", Filter::Op::Eq}, {"ne", Filter::Op::Ne}, {"gt", Filter::Op::Gt},
        {"ge", Filter::Op::Ge}, {"lt", Filter::Op::Lt}, {"le", Filter::Op::Le}};
    bool found = false;
    for (const auto& [name, op] : kOps) {
      if (is_word(name)) {
        node->op = op;
        found = true;
      }
    }
    if (!found) return unexpected();
    EXTDATA_TRY(advance());
    EXTDATA_ASSIGN_OR_RETURN(node->literal, literal());
    node->kind = Filter::Kind::Compare;
    return node;
  }

  Lexer lexer_;
  const ListSpec& list_;
  Filter& filter_;
  Token current_;
};

int compare_ci(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int x = std::tolower(static_cast<unsigned char>(a[i]));
    int y = std::tolower(static_cast<unsigned char>(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

std::optional<double> as_number(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && end == s.data() + s.size()) return d;
  }
  return std::nullopt;
}

// <0, 0, >0, or nullopt when the two cannot be compared.
std::optional<int> compare(const nlohmann::json& value, const nlohmann::json& literal) {
  if (value.is_string() && literal.is_string()) {
    return compare_ci(value.get_ref<const std::string&>(), literal.get_ref<const std::string&>());
  }
  auto a = as_number(value);
  auto b = as_number(literal);
  if (a && b) return *a < *b ? -1 : (*a > *b ? 1 : 0);
  return std::nullopt;
}

bool eval(const Filter::Node& node, const ItemSpec& item) {
  switch (node.kind) {
    case Filter::Kind::And:
      return eval(*node.children[0], item) && eval(*node.children[1], item);
    case Filter::Kind::Or:
      return eval(*node.children[0], item) || eval(*node.children[1], item);
    default:
      break;
  }
  const nlohmann::json* value = nullptr;
  for (const auto& [index, v] : item.values) {
    if (index == node.column) value = &v;
  }
  if (node.kind == Filter::Kind::StartsWith) {
    if (value == nullptr || !value->is_string()) return false;
    const auto& s = value->get_ref<const std::string&>();
    const auto& prefix = node.literal.get_ref<const std::string&>();
    return s.size() >= prefix.size() && compare_ci(s.substr(0, prefix.size()), prefix) == 0;
  }
  if (value == nullptr || node.literal.is_null()) {
    bool both_null = value == nullptr && node.literal.is_null();
    if (node.op == Filter::Op::Eq) return both_null;
    if (node.op == Filter::Op::Ne) return !both_null;
    return false;
  }
  auto c = compare(*value, node.literal);
  if (!c) return node.op == Filter::Op::Ne;
  switch (node.op) {
    case Filter::Op::Eq:
      return *c == 0;
    case Filter::Op::Ne:
      return *c != 0;
    case Filter::Op::Gt:
      return *c > 0;
    case Filter::Op::Ge:
      return *c >= 0;
    case Filter::Op::Lt:
      return *c < 0;
    case Filter::Op::Le:
      return *c <= 0;
  }
  return false;
}

}  // namespace

bool Filter::matches(const ItemSpec& item, const ListSpec&) const {
  return root == nullptr || eval(*root, item);
}

Result<Filter> parse_item_filter(std::string_view text, const ListSpec& list) {
  Filter filter;
  Parser parser(text, list, filter);
  EXTDATA_ASSIGN_OR_RETURN(auto root, parser.parse());
  filter.root = std::shared_ptr<Filter::Node>(std::move(root));
  return filter;
}

std::optional<std::string> parse_list_filter(std::string_view text) {
  Lexer lexer(text);
  auto a = lexer.next();
  auto b = lexer.next();
  auto c = lexer.next();
  auto d = lexer.next();
  if (!a.ok() || !b.ok() || !c.ok() || !d.ok()) return std::nullopt;
  if (a->type != Token::Word || !equals_ignore_case(a->text, "displayName") ||
      b->type != Token::Word || !equals_ignore_case(b->text, "eq") || c->type != Token::String ||
      d->type != Token::End) {
    return std::nullopt;
  }
  return c->text;
}

}  // namespace graphsim
