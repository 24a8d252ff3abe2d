#include "extract/jsonpath/iregexp.h"

#include <algorithm>
#include <string>

#include "extract/utf8.h"

namespace extdata::extract {
namespace {

struct CategoryRange {
  char32_t first;
  char32_t last;
  uint8_t category;
};

constexpr CategoryRange kCategoryRanges[] = {
#include "extract/jsonpath/unicode_categories.inc"
};

// Category indices as written by gen_unicode_categories.py.
constexpr uint8_t kUnassigned = 29;
constexpr const char* kCategoryNames[] = {
    "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe",
    "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"};

uint8_t category_of(char32_t cp) {
  const auto* end = std::end(kCategoryRanges);
  const auto* it =
      std::upper_bound(std::begin(kCategoryRanges), end, cp,
                       [](char32_t value, const CategoryRange& r) { return value < r.first; });
  if (it == std::begin(kCategoryRanges)) return kUnassigned;
  --it;
  return cp <= it->last ? it->category : kUnassigned;
}

struct Node {
  enum Kind {
    kEmpty,
    kChar,
    kAny,
    kClass,
    kConcat,
    kAlternation,
    kRepeat,
    kBegin,
    kEnd
  } kind = kEmpty;
  char32_t ch = 0;
  uint32_t class_index = 0;
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
  std::vector<Node> children;
};

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<IRegexp::CharClass>& classes)
      : text_(pattern), classes_(classes) {}

  Result<Node> parse() {
    Node node;
    if (!parse_alternation(node, 0)) return error_;
    if (pos_ < text_.size())
      return fail(text_[pos_] == ')' ? "unbalanced ')'" : "unexpected character");
    return node;
  }

 private:
  static constexpr int kMaxDepth = 100;

  Error fail(const std::string& what) {
    error_ = Error("iregexp.syntax", "I-Regexp error at " + std::to_string(pos_) + ": " + what,
                   "see RFC 9485 for the regular expression syntax of match() and search()");
    return error_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  bool next_code_point(char32_t& cp) {
    if (!utf8::decode(text_, pos_, cp)) {
      fail("invalid UTF-8");
      return false;
    }
    return true;
  }

  bool parse_alternation(Node& out, int depth) {
    if (depth > kMaxDepth) {
      fail("groups nested too deeply (limit " + std::to_string(kMaxDepth) + ")");
      return false;
    }
    Node branch;
    if (!parse_branch(branch, depth)) return false;
    if (at_end() || peek() != '|') {
      out = std::move(branch);
      return true;
    }
    out.kind = Node::kAlternation;
    out.children.push_back(std::move(branch));
    while (!at_end() && peek() == '|') {
      ++pos_;
      Node next;
      if (!parse_branch(next, depth)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }

  bool parse_branch(Node& out, int depth) {
    out.kind = Node::kConcat;
    while (!at_end() && peek() != '|' && peek() != ')') {
      Node atom;
      if (!parse_atom(atom, depth)) return false;
      if (!parse_quantifier(atom)) return false;
      out.children.push_back(std::move(atom));
    }
    return true;
  }

  bool parse_number(int& value) {
    if (at_end() || peek() < '0' || peek() > '9') {
      fail("expected a number in the {n,m} quantifier");
      return false;
    }
    long long parsed = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      parsed = parsed * 10 + (peek() - '0');
      if (parsed > static_cast<long long>(limits().regex_max_repeat)) {
        fail("quantifier count above " + std::to_string(limits().regex_max_repeat) + " (" +
             describe_limit(&Limits::regex_max_repeat) + ")");
        return false;
      }
      ++pos_;
    }
    value = static_cast<int>(parsed);
    return true;
  }

  bool parse_quantifier(Node& atom) {
    if (at_end()) return true;
    int min, max;
    const char c = peek();
    if (c == '*') {
      min = 0, max = -1, ++pos_;
    } else if (c == '+') {
      min = 1, max = -1, ++pos_;
    } else if (c == '?') {
      min = 0, max = 1, ++pos_;
    } else if (c == '{') {
      ++pos_;
      if (!parse_number(min)) return false;
      max = min;
      if (!at_end() && peek() == ',') {
        ++pos_;
        max = -1;
        if (!at_end() && peek() != '}' && !parse_number(max)) return false;
      }
      if (at_end() || peek() != '}') {
        fail("expected '}'");
        return false;
      }
      ++pos_;
      if (max != -1 && max < min) {
        fail("quantifier {n,m} with m < n");
        return false;
      }
    } else {
      return true;
    }
    Node repeat;
    repeat.kind = Node::kRepeat;
    repeat.min = min;
    repeat.max = max;
    repeat.children.push_back(std::move(atom));
    atom = std::move(repeat);
    return true;
  }

  // After "\p{" or "\P{": a category name such as L or Lu, then '}'.
  bool parse_category(uint32_t& mask) {
    const size_t start = pos_;
    while (!at_end() && peek() != '}') ++pos_;
    if (at_end()) {
      pos_ = start;
      fail("expected '}' after the category name");
      return false;
    }
    const std::string_view name = text_.substr(start, pos_ - start);
    ++pos_;
    mask = 0;
    for (uint32_t i = 0; i < std::size(kCategoryNames); ++i) {
      const std::string_view candidate = kCategoryNames[i];
      if (candidate == "Cs") continue;  // not an I-Regexp category
      if (name.size() == 1 ? candidate[0] == name[0] : candidate == name) mask |= 1u << i;
    }
    if (mask == 0 || name.size() > 2) {
      mask = 0;
      pos_ = start;
      fail("unknown Unicode category '" + std::string(name) + "'");
      return false;
    }
    return true;
  }

  // After '\'. Either a single escaped character or a category escape.
  bool parse_escape(bool& is_class, char32_t& ch, IRegexp::ClassItem& item) {
    if (at_end()) {
      fail("pattern ends after '\\'");
      return false;
    }
    const char c = peek();
    ++pos_;
    is_class = false;
    switch (c) {
      case 'n':
        ch = '\n';
        return true;
      case 'r':
        ch = '\r';
        return true;
      case 't':
        ch = '\t';
        return true;
      case '(':
      case ')':
      case '*':
      case '+':
      case '-':
      case '.':
      case '?':
      case '[':
      case '\\':
      case ']':
      case '^':
      case '{':
      case '|':
      case '}':
        ch = static_cast<unsigned char>(c);
        return true;
      case 'p':
      case 'P':
        if (at_end() || peek() != '{') {
          fail("expected '{' after \\" + std::string(1, c));
          return false;
        }
        ++pos_;
        is_class = true;
        item.complement = c == 'P';
        return parse_category(item.category_mask);
      default:
        --pos_;
        fail("unsupported escape '\\" + std::string(1, c) + "'");
        return false;
    }
  }

  bool parse_atom(Node& out, int depth) {
    const char c = peek();
    switch (c) {
      case '(': {
        ++pos_;
        if (!parse_alternation(out, depth + 1)) return false;
        if (at_end() || peek() != ')') {
          fail("expected ')'");
          return false;
        }
        ++pos_;
        return true;
      }
      case '.':
        ++pos_;
        out.kind = Node::kAny;
        return true;
      case '^':
        ++pos_;
        out.kind = Node::kBegin;
        return true;
      case '$':
        ++pos_;
        out.kind = Node::kEnd;
        return true;
      case '[':
        return parse_bracket(out);
      case '\\': {
        ++pos_;
        bool is_class;
        IRegexp::ClassItem item;
        if (!parse_escape(is_class, out.ch, item)) return false;
        if (is_class) {
          IRegexp::CharClass cls;
          cls.items.push_back(item);
          out.kind = Node::kClass;
          out.class_index = static_cast<uint32_t>(classes_.size());
          classes_.push_back(std::move(cls));
        } else {
          out.kind = Node::kChar;
        }
        return true;
      }
      case '*':
      case '+':
      case '?':
      case '{':
        fail(std::string("quantifier '") + c + "' without something to repeat");
        return false;
      case ']':
      case '}':
        fail(std::string("unescaped '") + c + "'");
        return false;
      default:
        out.kind = Node::kChar;
        return next_code_point(out.ch);
    }
  }

  // One CCchar (possibly escaped) or a category escape inside [...].
  bool parse_class_char(bool& is_class, char32_t& ch, IRegexp::ClassItem& item) {
    is_class = false;
    if (peek() == '\\') {
      ++pos_;
      return parse_escape(is_class, ch, item);
    }
    if (peek() == '[') {
      fail("unescaped '[' inside a character class");
      return false;
    }
    return next_code_point(ch);
  }

  bool parse_bracket(Node& out) {
    const size_t open = pos_;
    ++pos_;  // '['
    IRegexp::CharClass cls;
    if (!at_end() && peek() == '^') {
      cls.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (at_end()) {
        pos_ = open;
        fail("unterminated character class '['");
        return false;
      }
      if (peek() == ']') {
        if (first) {
          fail("empty character class");
          return false;
        }
        ++pos_;
        break;
      }
      if (peek() == '-') {
        // '-' is literal only first or last in the class.
        const bool last = pos_ + 1 < text_.size() && text_[pos_ + 1] == ']';
        if (!first && !last) {
          fail("'-' must be escaped inside a character class");
          return false;
        }
        ++pos_;
        cls.items.push_back({U'-', U'-', 0, false});
        first = false;
        continue;
      }
      bool is_class;
      char32_t low = 0;
      IRegexp::ClassItem item;
      if (!parse_class_char(is_class, low, item)) return false;
      first = false;
      if (is_class) {
        cls.items.push_back(item);
        continue;
      }
      char32_t high = low;
      if (!at_end() && peek() == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ']') {
        ++pos_;
        if (!parse_class_char(is_class, high, item)) return false;
        if (is_class) {
          fail("a range cannot end with a category escape");
          return false;
        }
        if (high < low) {
          fail("character range out of order");
          return false;
        }
      }
      cls.items.push_back({low, high, 0, false});
    }
    out.kind = Node::kClass;
    out.class_index = static_cast<uint32_t>(classes_.size());
    classes_.push_back(std::move(cls));
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<IRegexp::CharClass>& classes_;
  Error error_;
};

using Instruction = IRegexp::Instruction;

class Emitter {
 public:
  explicit Emitter(std::vector<Instruction>& program) : program_(program) {}

  bool emit(const Node& node) {
    if (program_.size() > IRegexp::kMaxProgramSize) return false;
    switch (node.kind) {
      case Node::kEmpty:
        return true;
      case Node::kChar:
        push({Instruction::kChar, 0, 0, node.ch});
        return true;
      case Node::kAny:
        push({Instruction::kAny, 0, 0, 0});
        return true;
      case Node::kBegin:
        push({Instruction::kAssertBegin, 0, 0, 0});
        return true;
      case Node::kEnd:
        push({Instruction::kAssertEnd, 0, 0, 0});
        return true;
      case Node::kClass:
        push({Instruction::kClass, node.class_index, 0, 0});
        return true;
      case Node::kConcat:
        for (const Node& child : node.children) {
          if (!emit(child)) return false;
        }
        return true;
      case Node::kAlternation: {
        std::vector<size_t> jumps_to_end;
        for (size_t i = 0; i < node.children.size(); ++i) {
          const bool last = i + 1 == node.children.size();
          size_t split = 0;
          if (!last) split = push({Instruction::kSplit, 0, 0, 0});
          if (!last) program_[split].x = here();
          if (!emit(node.children[i])) return false;
          if (!last) {
            jumps_to_end.push_back(push({Instruction::kJump, 0, 0, 0}));
            program_[split].y = here();
          }
        }
        for (size_t jump : jumps_to_end) program_[jump].x = here();
        return true;
      }
      case Node::kRepeat: {
        const Node& body = node.children[0];
        for (int i = 0; i < node.min; ++i) {
          if (!emit(body)) return false;
        }
        if (node.max == -1) {
          const size_t split = push({Instruction::kSplit, 0, 0, 0});
          program_[split].x = here();
          if (!emit(body)) return false;
          push({Instruction::kJump, static_cast<uint32_t>(split), 0, 0});
          program_[split].y = here();
          return true;
        }
        std::vector<size_t> splits;
        for (int i = node.min; i < node.max; ++i) {
          const size_t split = push({Instruction::kSplit, 0, 0, 0});
          program_[split].x = here();
          splits.push_back(split);
          if (!emit(body)) return false;
        }
        for (size_t split : splits) program_[split].y = here();
        return true;
      }
    }
    return true;
  }

 private:
  uint32_t here() const { return static_cast<uint32_t>(program_.size()); }
  size_t push(Instruction instruction) {
    program_.push_back(instruction);
    return program_.size() - 1;
  }
  std::vector<Instruction>& program_;
};

// A set of program counters with O(1) insert/clear (Briggs–Torczon sparse set).
class ThreadList {
 public:
  explicit ThreadList(size_t capacity) : dense_(capacity), sparse_(capacity) {}
  bool contains(uint32_t pc) const {
    const uint32_t slot = sparse_[pc];
    return slot < size_ && dense_[slot] == pc;
  }
  void insert(uint32_t pc) {
    sparse_[pc] = static_cast<uint32_t>(size_);
    dense_[size_++] = pc;
  }
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  uint32_t operator[](size_t i) const { return dense_[i]; }

 private:
  std::vector<uint32_t> dense_, sparse_;
  size_t size_ = 0;
};

}  // namespace

bool IRegexp::CharClass::contains(char32_t cp) const {
  bool found = false;
  for (const ClassItem& item : items) {
    if (item.category_mask != 0) {
      const bool in_category = (item.category_mask >> category_of(cp)) & 1u;
      if (in_category != item.complement) {
        found = true;
        break;
      }
    } else if (cp >= item.first && cp <= item.last) {
      found = true;
      break;
    }
  }
  return found != negated;
}

Result<IRegexp> IRegexp::compile(std::string_view pattern) {
  auto classes = std::make_shared<std::vector<CharClass>>();
  Parser parser(pattern, *classes);
  EXTDATA_ASSIGN_OR_RETURN(Node root, parser.parse());
  auto program = std::make_shared<std::vector<Instruction>>();
  Emitter emitter(*program);
  if (!emitter.emit(root) || program->size() > kMaxProgramSize) {
    return Error("iregexp.too_large",
                 "I-Regexp error: the pattern expands to more than " +
                     std::to_string(kMaxProgramSize) + " instructions",
                 "use smaller {n,m} repetition counts");
  }
  program->push_back({Instruction::kMatch, 0, 0, 0});
  IRegexp regexp;
  regexp.program_ = std::move(program);
  regexp.classes_ = std::move(classes);
  return regexp;
}

Result<bool> IRegexp::match(std::string_view text, bool full) const {
  const size_t cost = std::max<size_t>(text.size(), 1) * program_->size();
  if (cost / program_->size() != std::max<size_t>(text.size(), 1) || cost > limits().regex_max_cost)
    return Error("iregexp.too_costly",
                 "matching this I-Regexp against a text of " + std::to_string(text.size()) +
                     " bytes would take up to " + std::to_string(cost) + " steps",
                 "Use a simpler pattern (smaller {n,m} counts) or shorter values; the match is "
                 "refused by " +
                     describe_limit(&Limits::regex_max_cost) + ".")
        .with("limit", "regex_max_cost");
  return run(text, full);
}

bool IRegexp::full_match(std::string_view text) const {
  auto r = match(text, true);
  return r.ok() && *r;
}
bool IRegexp::search(std::string_view text) const {
  auto r = match(text, false);
  return r.ok() && *r;
}

bool IRegexp::run(std::string_view text, bool anchored) const {
  const std::vector<Instruction>& program = *program_;
  ThreadList current(program.size()), next(program.size());
  std::vector<uint32_t> stack;
  bool matched = false;

  // Follows jumps and splits from pc, adding the character-consuming (and match) states to list.
  size_t pos = 0;
  const auto add_thread = [&](ThreadList& list, uint32_t start) {
    stack.push_back(start);
    while (!stack.empty()) {
      const uint32_t pc = stack.back();
      stack.pop_back();
      if (list.contains(pc)) continue;
      list.insert(pc);
      const Instruction& in = program[pc];
      if (in.op == Instruction::kJump) {
        stack.push_back(in.x);
      } else if (in.op == Instruction::kSplit) {
        stack.push_back(in.y);
        stack.push_back(in.x);
      } else if (in.op == Instruction::kMatch) {
        matched = true;
      } else if (in.op == Instruction::kAssertBegin) {
        if (pos == 0) stack.push_back(pc + 1);
      } else if (in.op == Instruction::kAssertEnd) {
        if (pos == text.size()) stack.push_back(pc + 1);
      }
    }
  };

  add_thread(current, 0);
  while (true) {
    if (!anchored && matched) return true;
    if (pos >= text.size()) break;
    char32_t cp;
    if (!utf8::decode(text, pos, cp)) return false;
    matched = false;
    next.clear();
    for (size_t i = 0; i < current.size(); ++i) {
      const Instruction& in = program[current[i]];
      bool advance = false;
      switch (in.op) {
        case Instruction::kChar:
          advance = in.ch == cp;
          break;
        case Instruction::kAny:
          advance = cp != '\n' && cp != '\r';
          break;
        case Instruction::kClass:
          advance = (*classes_)[in.x].contains(cp);
          break;
        default:
          break;
      }
      if (advance) add_thread(next, current[i] + 1);
    }
    if (!anchored) add_thread(next, 0);
    std::swap(current, next);
    if (current.size() == 0) return false;
  }
  return matched;
}

}  // namespace extdata::extract
