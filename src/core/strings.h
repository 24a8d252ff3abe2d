#pragma once
// Small ASCII string helpers, once for the whole program. Case folding is ASCII only: every
// caller compares protocol tokens (schemes, header names, codes), never user text.
#include <string>
#include <string_view>
#include <vector>

namespace extdata {

// ASCII lower case of `s`.
std::string lower(std::string_view s);

// `s` without leading and trailing ASCII white space (space, \t, \n, \r, \f, \v).
std::string_view trim(std::string_view s);

// The pieces of `s` between occurrences of `sep`, empty pieces included:
// split("a,,b", ',') == {"a", "", "b"}; split("", ',') == {""}.
std::vector<std::string_view> split(std::string_view s, char sep);

// Case-insensitive (ASCII) three-way comparison: <0, 0 or >0 like std::string::compare.
int compare_ignore_case(std::string_view a, std::string_view b);

// Case-insensitive (ASCII) equality.
bool equals_ignore_case(std::string_view a, std::string_view b);

// Case-insensitive (ASCII) suffix test.
bool ends_with_ignore_case(std::string_view s, std::string_view suffix);

// `s` as a sentence: its first letter upper case when its first word is a plain word
// ("check the URL" → "Check the URL"), unchanged when it starts with a key, a command or a
// value ("client_id is…", "--var …", "`extdata …`"), which must be quoted as written.
std::string as_sentence(std::string_view s);

}  // namespace extdata
