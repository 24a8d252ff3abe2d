#pragma once
// Search-key folding: turns a label such as "Müller GmbH & Co. KG" into the key
// "muller gmbh co kg" that SearchIndex matches queries against.
//
// Rules (see docs/search.md for the why):
//  - Latin letters are lowercased and lose their diacritics (é→e, ü→u, ø→o, ł→l, đ→d),
//    ligatures and special letters expand (ß→ss, æ→ae, œ→oe, þ→th); Latin Extended
//    Additional (Vietnamese) and fullwidth ASCII forms fold the same way.
//  - Greek is lowercased without tonos/dialytika, final sigma becomes σ.
//  - Cyrillic is lowercased (ё→е); other letters keep their identity.
//  - Everything else that is a letter, digit or mark (CJK, Arabic, Devanagari ...) passes
//    through unchanged.
//  - Punctuation, symbols, spaces and controls separate words; invisible format characters
//    (soft hyphen, zero-width joiners, BOM) are dropped; invalid UTF-8 bytes separate words.
//  - The key holds the words separated by one ASCII space, without leading or trailing space.
#include <string>
#include <string_view>

namespace extdata::fields {

// The search key of `text`. Never fails: any byte sequence yields a valid UTF-8 key.
std::string fold_for_search(std::string_view text);

// Appends the search key of `text` to `out`; lets hot loops reuse one buffer.
void append_folded(std::string_view text, std::string& out);

// Appends the start of the search key of `text`: stops as soon as more than `limit` bytes were
// appended (or the text ends), so the bytes appended are the key's first bytes and more than
// `limit` of them unless the key is that short. Enough to tell whether a key starts with, or
// equals, a folded query of `limit` bytes without folding a whole label.
void append_folded(std::string_view text, std::string& out, size_t limit);

}  // namespace extdata::fields
