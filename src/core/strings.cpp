#include "core/strings.h"

#include <algorithm>
#include <cctype>

namespace extdata {

namespace {

char lower_char(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_char(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

int compare_ignore_case(std::string_view a, std::string_view b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(lower_char(a[i]));
    const auto y = static_cast<unsigned char>(lower_char(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && compare_ignore_case(a, b) == 0;
}

bool ends_with_ignore_case(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         equals_ignore_case(s.substr(s.size() - suffix.size()), suffix);
}

std::string as_sentence(std::string_view s) {
  std::string out(s);
  const size_t word_end = std::min(s.find(' '), s.size());
  if (word_end == 0 || !std::islower(static_cast<unsigned char>(s[0]))) return out;
  for (size_t i = 0; i < word_end; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool last = i + 1 == word_end;
    if (!std::isalpha(c) && c != '\'' && !(last && (c == ':' || c == ',' || c == ';'))) return out;
  }
  out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace extdata
