#pragma once
// Minimal UTF-8 helpers shared by the JSONPath, I-Regexp, template and CSV code.
#include <cstddef>
#include <string>
#include <string_view>

namespace extdata::extract::utf8 {

// Decodes the code point starting at text[pos] and advances pos past it. Returns false (pos
// unchanged) on an invalid sequence: overlong forms, surrogates and values above U+10FFFF are
// invalid.
bool decode(std::string_view text, size_t& pos, char32_t& code_point);

// Appends code_point (which must be a Unicode scalar value) encoded as UTF-8.
void append(std::string& out, char32_t code_point);

// Byte offset of the first invalid sequence, or npos when text is valid UTF-8.
size_t find_invalid(std::string_view text);

// Number of code points in valid UTF-8 text.
size_t count_code_points(std::string_view text);

}  // namespace extdata::extract::utf8
