// libFuzzer target: the first line is an I-Regexp pattern, the rest a subject string.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extract/jsonpath/iregexp.h"
#include "extract/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto regex = extdata::extract::IRegexp::compile(input.substr(0, newline));
  if (!regex.ok()) return 0;
  const std::string_view subject = input.substr(newline + 1);
  if (extdata::extract::utf8::find_invalid(subject) != std::string_view::npos) return 0;
  // A full match is also a match somewhere.
  if (regex->full_match(subject) && !regex->search(subject)) __builtin_trap();
  return 0;
}
