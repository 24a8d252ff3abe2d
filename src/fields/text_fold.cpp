#include "fields/text_fold.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace extdata::fields {
namespace {

struct FoldEntry {
  uint8_t length;  // 0: the code point is dropped
  char bytes[4];
};

struct CodePointRange {
  char32_t first;
  char32_t last;
};

#include "fields/text_fold_table.inc"

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes one code point at text[pos]; strict UTF-8 (no overlongs, surrogates or values
// above U+10FFFF). On invalid input returns kInvalid and a length of 1, so the caller
// skips exactly one byte and resynchronises on the next.
char32_t decode_utf8(std::string_view text, size_t pos, size_t& length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  length = 1;
  if (lead < 0x80) return lead;
  size_t need = 0;
  char32_t cp = 0;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return kInvalid;
  }
  if (pos + need >= text.size()) return kInvalid;  // truncated sequence
  for (size_t i = 1; i <= need; ++i) {
    const unsigned char next = byte(i);
    const unsigned char lo = i == 1 ? min_second : 0x80;
    const unsigned char hi = i == 1 ? max_second : 0xBF;
    if (next < lo || next > hi) return kInvalid;
    cp = (cp << 6) | (next & 0x3F);
  }
  length = need + 1;
  return cp;
}

template <size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], char32_t cp) {
  const auto* it =
      std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                       [](char32_t value, const CodePointRange& r) { return value < r.first; });
  return it != std::begin(ranges) && cp <= std::prev(it)->last;
}

const FoldEntry* table_entry(char32_t cp) {
  if (cp < 0x500) return &kFold0000[cp];
  if (cp >= 0x1E00 && cp < 0x1F00) return &kFold1E00[cp - 0x1E00];
  if (cp >= 0xFF00 && cp < 0xFF60) return &kFoldFF00[cp - 0xFF00];
  return nullptr;
}

// Appends word bytes, inserting the single separating space a preceding separator asked for.
class KeyWriter {
 public:
  KeyWriter(std::string& out) : out_(out), start_(out.size()) {}
  size_t written() const { return out_.size() - start_; }
  void separator() { pending_space_ = out_.size() > start_; }
  void word_bytes(const char* bytes, size_t length) {
    if (pending_space_) {
      out_.push_back(' ');
      pending_space_ = false;
    }
    if (length == 1) {
      out_.push_back(bytes[0]);  // most folded text: cheaper than append's general path
    } else {
      out_.append(bytes, length);
    }
  }

 private:
  std::string& out_;
  size_t start_;
  bool pending_space_ = false;
};

}  // namespace

void append_folded(std::string_view text, std::string& out) {
  append_folded(text, out, std::string::npos);
}

void append_folded(std::string_view text, std::string& out, size_t limit) {
  KeyWriter writer(out);
  size_t pos = 0;
  while (pos < text.size() && writer.written() <= limit) {
    size_t length = 1;
    const char32_t cp = decode_utf8(text, pos, length);
    if (cp == kInvalid) {
      writer.separator();
    } else if (const FoldEntry* entry = table_entry(cp)) {
      if (entry->length == 1 && entry->bytes[0] == ' ') {
        writer.separator();
      } else if (entry->length > 0) {
        writer.word_bytes(entry->bytes, entry->length);
      }
    } else if (in_ranges(kIgnorableRanges, cp)) {
      // invisible: dropped without breaking the word
    } else if (in_ranges(kSeparatorRanges, cp)) {
      writer.separator();
    } else {
      writer.word_bytes(text.data() + pos, length);
    }
    pos += length;
  }
}

std::string fold_for_search(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_folded(text, out);
  return out;
}

}  // namespace extdata::fields
