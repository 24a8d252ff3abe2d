#include "extract/json_text.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace extdata::extract {

namespace {

// Bytes that cannot stand unescaped inside a JSON string: controls, quote, backslash.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

void append_escaped(std::string& out, char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(c);
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 15]};
      out.append(escaped, sizeof escaped);
    }
  }
}

template <typename Number>
void append_number(std::string& out, Number n) {
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, written.ptr);
}

void append_double(std::string& out, double d) {
  char buffer[40];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, d);
  out.append(buffer, written.ptr);
  // Keep a double a double when the text is read back (2.0 stays 2.0, not the integer 2).
  if (std::string_view(buffer, written.ptr).find_first_of(".eE") == std::string_view::npos)
    out += ".0";
}

// True when one of the 8 bytes of `word` is a control character, '"' or '\\' (SWAR: the
// classic "has zero byte" / "has byte less than n" tricks; bytes >= 0x80 never match).
bool word_needs_escape(std::uint64_t word) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto has_zero = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (word - ones * 0x20) & ~word & highs;
  return (below_space | has_zero(word ^ (ones * '"')) | has_zero(word ^ (ones * '\\'))) != 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  // Skip 8 plain bytes at a time, then copy runs at once: most strings need no escaping
  // and serving options writes megabytes of record JSON per second.
  size_t i = 0;
  while (i + 8 <= s.size()) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word_needs_escape(word)) break;
    i += 8;
  }
  size_t run = 0;
  for (; i < s.size(); ++i) {
    if (kNeedsEscape[static_cast<unsigned char>(s[i])]) {
      out.append(s.data() + run, i - run);
      append_escaped(out, s[i]);
      run = i + 1;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_json(std::string& out, simdjson::dom::element value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT: {
      out.push_back('{');
      bool first = true;
      // Held by value: iterating value_unsafe() of the temporary result would dangle.
      const simdjson::dom::object object = value.get_object().value_unsafe();
      for (const auto field : object) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, field.key);
        out.push_back(':');
        append_json(out, field.value);
      }
      out.push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      const simdjson::dom::array array = value.get_array().value_unsafe();
      for (const auto item : array) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, item);
      }
      out.push_back(']');
      return;
    }
    case element_type::STRING:
      append_json_string(out, value.get_string().value_unsafe());
      return;
    case element_type::INT64:
      append_number(out, value.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      append_number(out, value.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE:
      append_double(out, value.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      out += value.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

std::string display_text(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(value.get_string().value_unsafe());
    case simdjson::dom::element_type::NULL_VALUE:
      return "";
    default: {
      std::string text;
      append_json(text, value);
      return text;
    }
  }
}

}  // namespace extdata::extract
