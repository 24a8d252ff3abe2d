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

namespace extdata::extract {

class IRegexp {
 public:
  // Patterns whose program would exceed this many instructions (e.g. a{1000}{1000}) are rejected.
  static constexpr size_t kMaxProgramSize = 20000;

  // Error code "iregexp.syntax", message "I-Regexp error at N: ..." (N = byte offset).
  static Result<IRegexp> compile(std::string_view pattern);

  // True when the whole of text matches (JSONPath match()). text must be valid UTF-8.
  bool full_match(std::string_view text) const;
  // True when some substring of text matches (JSONPath search()).
  bool search(std::string_view text) const;

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
