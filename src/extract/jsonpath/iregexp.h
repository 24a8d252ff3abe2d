#pragma once
// I-Regexp (RFC 9485), the regular expressions of the JSONPath match() and search() functions.
//
// Compiled to a small program and run by a Thompson/Pike NFA simulation over code points, so
// matching time is linear in the text length (no catastrophic backtracking on hostile patterns).
// '^' and '$' anchor at the start and end of the string (as the JSONPath Compliance Test Suite
// expects of match() and search()). \p{..} / \P{..} use the Unicode general categories of
// gen_unicode_categories.py.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/limits.h"

namespace extdata::extract {

class IRegexp {
 public:
  // Patterns whose program would exceed this many instructions (e.g. a{1000}{1000}) are rejected.
  static constexpr size_t kMaxProgramSize = 20000;

  // Error code "iregexp.syntax", message "I-Regexp error at N: ..." (N = byte offset).
  static Result<IRegexp> compile(std::string_view pattern);

  // Quantifier counts above limits().regex_max_repeat are refused at compile time
  // ("iregexp.too_large", naming the limit).

  // Whether the whole of text (full) or some substring of it matches. text must be valid
  // UTF-8. Error "iregexp.too_costly" when text length × program size exceeds
  // limits().regex_max_cost: matching is linear, but a{0,999}a{0,999}… over a megabyte is
  // still billions of steps.
  Result<bool> match(std::string_view text, bool full) const;
  // match() for callers that treat an over-budget match as no match.
  bool full_match(std::string_view text) const;  // JSONPath match()
  bool search(std::string_view text) const;      // JSONPath search()

  struct ClassItem {
    char32_t first = 0, last = 0;  // a code point range, when category_mask == 0
    uint32_t category_mask = 0;    // general categories (bit per category), when non-zero
    bool complement = false;       // \P{..}
  };
  struct CharClass {
    bool negated = false;
    std::vector<ClassItem> items;
    bool contains(char32_t cp) const;
  };
  struct Instruction {
    enum Op : uint8_t { kChar, kAny, kClass, kSplit, kJump, kMatch, kAssertBegin, kAssertEnd } op;
    uint32_t x = 0, y = 0;  // jump targets, class index
    char32_t ch = 0;
  };

 private:
  bool run(std::string_view text, bool anchored) const;
  std::shared_ptr<const std::vector<Instruction>> program_;
  std::shared_ptr<const std::vector<CharClass>> classes_;
};

}  // namespace extdata::extract
