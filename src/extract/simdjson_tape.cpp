#include "extract/simdjson_tape.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <system_error>

#include "core/memory.h"

namespace extdata::extract {
namespace {

constexpr uint64_t kPayloadMask = (uint64_t{1} << 56) - 1;

char tape_type(uint64_t word) {
  return static_cast<char>(word >> 56);
}

// Numbers occupy two tape words: the type word and the value.
bool is_number(char type) {
  return type == 'l' || type == 'u' || type == 'd';
}

// A string as simdjson stores it at `offset`: a 4-byte length, the bytes, a NUL.
std::string_view stored_string(const uint8_t* strings, size_t offset) {
  uint32_t length;
  std::memcpy(&length, strings + offset, sizeof length);
  return {reinterpret_cast<const char*>(strings + offset + sizeof length), length};
}

// The root word points one past the closing root word: that is the tape length.
size_t tape_length_of(const simdjson::dom::document& document) {
  return static_cast<size_t>(document.tape[0] & kPayloadMask);
}

// 8 bytes per multiply, inlined: std::hash is an out-of-line call that took a sixth of a
// SharePoint fetch's CPU time. Low bits pick the slot, high bits are the slot's tag.
inline uint64_t string_hash(std::string_view text) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t hash = (text.size() + 1) * kMul;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    hash = (hash ^ word) * kMul;
    hash ^= hash >> 32;
  }
  // The last 1..7 bytes by fixed-size loads (a variable-length copy was a call and a stall).
  const size_t rest = text.size() - i;
  if (rest > 0) {
    const auto* tail = reinterpret_cast<const unsigned char*>(text.data() + i);
    uint64_t word;
    if (rest >= 4) {
      uint32_t low, high;
      std::memcpy(&low, tail, 4);
      std::memcpy(&high, tail + rest - 4, 4);
      word = (uint64_t{high} << 32) | low;
    } else {
      word = (uint64_t{tail[0]} << 16) | (uint64_t{tail[rest / 2]} << 8) | tail[rest - 1];
    }
    hash = (hash ^ word) * kMul;
  }
  hash ^= hash >> 29;
  hash *= 0xBF58476D1CE4E5B9ull;
  return hash ^ (hash >> 32);
}

// True when the `size` bytes at `a` and `b` are equal; inline, in 8-byte loads (a call to
// memcmp cost more than comparing the short strings of a record).
inline bool equal_bytes(const uint8_t* a, const uint8_t* b, size_t size) {
  uint64_t x, y;
  if (size >= 8) {
    // The last 8 bytes first: ids and URLs of consecutive records differ at their end.
    std::memcpy(&x, a + size - 8, 8);
    std::memcpy(&y, b + size - 8, 8);
    if (x != y) return false;
    for (size_t i = 0; i + 8 < size; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    return true;
  }
  if (size >= 4) {
    uint32_t xl, yl, xh, yh;
    std::memcpy(&xl, a, 4);
    std::memcpy(&yl, b, 4);
    std::memcpy(&xh, a + size - 4, 4);
    std::memcpy(&yh, b + size - 4, 4);
    return xl == yl && xh == yh;
  }
  for (size_t i = 0; i < size; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// Each distinct string of a page stored once: a list's records repeat every member name and
// many values (content types, people, parent references), which simdjson writes out again for
// every occurrence. For Graph list items this is 1.8 KB of strings per item of which 0.4 KB
// is distinct. Slots hold (32 hash bits << 32 | offset + 1). The table stops taking new
// strings at kMaxSlots / 2 entries: it stays small enough for the CPU cache (a larger one
// made lookups cache misses and cut extraction speed by a sixth while sharing only a tenth
// more), and the strings seen first (member names, common values) are the ones shared.
class StringInterner {
 public:
  static constexpr size_t kMaxSlots = size_t{1} << 16;
  static constexpr size_t kMaxSharedLength = 128;

  // Starts from the size the previous page grew the table to: pages of one source are alike.
  StringInterner(std::vector<uint64_t>& slots, uint8_t* out) : slots_(slots), out_(out) {
    slots_.assign(std::max(slots_.size(), size_t{1} << 14), 0);
  }

  // Returns the offset of `text` (with simdjson's length prefix and NUL) in the output buffer.
  // Offsets must stay below 4 GB (the table holds 32 bits): callers check the size.
  uint32_t intern(std::string_view text) {
    // Long strings (descriptions, per-record URLs) rarely repeat; hashing them cost more than
    // sharing the few that do saves.
    if (text.size() > kMaxSharedLength) return append(text);
    const uint64_t hash = string_hash(text);
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == 0) {
        const uint32_t offset = append(text);
        if (entries_ < kMaxSlots / 2) {
          slots_[i] = (uint64_t{tag} << 32) | (uint64_t{offset} + 1);
          if (++entries_ * 2 > slots_.size() && slots_.size() < kMaxSlots) grow();
        }
        return offset;
      }
      if (static_cast<uint32_t>(slot >> 32) != tag) continue;
      const uint32_t offset = static_cast<uint32_t>(slot) - 1;
      const std::string_view stored = string_at(offset);
      if (stored.size() == text.size() &&
          equal_bytes(reinterpret_cast<const uint8_t*>(stored.data()),
                      reinterpret_cast<const uint8_t*>(text.data()), text.size()))
        return offset;
    }
  }
  // True when the string stored at `offset` is `stored` (a string in simdjson's format, its
  // length prefix included).
  bool holds(uint32_t offset, const uint8_t* stored) const {
    uint32_t length;
    std::memcpy(&length, stored, sizeof length);
    return size_t{offset} + sizeof length + length < size_ &&
           equal_bytes(out_ + offset, stored, sizeof length + length);
  }
  size_t size() const { return size_; }
  // The output buffer moved (TapeWriter grew it): the same bytes at a new address.
  void rebase(uint8_t* out) { out_ = out; }

  // `out_` may be the buffer `text` is read from, at or past the write position: the length
  // is read already and the bytes move down (memmove). Not shared with later equal strings.
  size_t append_unshared(std::string_view text) {
    const size_t offset = size_;
    const auto length = static_cast<uint32_t>(text.size());
    std::memcpy(out_ + size_, &length, sizeof length);
    std::memmove(out_ + size_ + sizeof length, text.data(), text.size());
    out_[size_ + sizeof length + text.size()] = 0;
    size_ += sizeof length + text.size() + 1;
    return offset;
  }

 private:
  std::string_view string_at(uint32_t offset) const { return stored_string(out_, offset); }
  uint32_t append(std::string_view text) { return static_cast<uint32_t>(append_unshared(text)); }
  void grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (uint64_t slot : old) {
      if (slot == 0) continue;
      const uint64_t hash = string_hash(string_at(static_cast<uint32_t>(slot) - 1));
      size_t i = hash & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<uint64_t>& slots_;
  uint8_t* out_;
  size_t size_ = 0;
  size_t entries_ = 0;
};

// A string buffer in simdjson's format that grows as strings are added (the output of a
// StringInterner whose input is not the buffer itself).
struct GrowingStrings {
  std::vector<uint64_t> slots;  // the interner's table, reused from document to document
  std::unique_ptr<uint8_t[]> buffer;
  size_t capacity = 0;
  std::optional<StringInterner> interner;

  void begin() { interner.emplace(slots, buffer.get()); }
  // Room for one more stored string of `length` bytes.
  void reserve_for(size_t length) {
    const size_t needed = interner->size() + sizeof(uint32_t) + length + 1;
    if (needed <= capacity) return;
    const size_t grown = std::max(needed, std::max(capacity * 2, size_t{1} << 16));
    std::unique_ptr<uint8_t[]> bigger(new uint8_t[grown]);
    if (interner->size() > 0) std::memcpy(bigger.get(), buffer.get(), interner->size());
    buffer = std::move(bigger);
    capacity = grown;
    interner->rebase(buffer.get());
  }
};

}  // namespace

// ------------------------------------------------------------------ ShapePage

ShapePage::Layout ShapePage::layout(size_t slot_count, size_t shape_words, size_t number_count,
                                    size_t string_bytes) {
  Layout layout;
  layout.shapes = slot_count * sizeof(uint32_t);
  const size_t shapes_end = layout.shapes + shape_words * sizeof(uint32_t);
  layout.numbers = (shapes_end + 7) & ~size_t{7};
  layout.strings = layout.numbers + number_count * sizeof(uint64_t);
  layout.total = layout.strings + string_bytes + simdjson::SIMDJSON_PADDING;
  return layout;
}

void ShapePage::attach(std::shared_ptr<uint8_t> block) {
  const Layout at = layout(slot_count, shape_words, number_count, string_bytes);
  uint8_t* base = block.get();
  slots = reinterpret_cast<const uint32_t*>(base);
  shapes = reinterpret_cast<const uint32_t*>(base + at.shapes);
  numbers = reinterpret_cast<const uint64_t*>(base + at.numbers);
  strings = base + at.strings;
  memory = std::move(block);
}

size_t ShapePage::bytes() const {
  return memory ? layout(slot_count, shape_words, number_count, string_bytes).total : 0;
}

namespace {

bool string_in_bounds(const ShapePage& page, uint32_t offset) {
  if (size_t{offset} + sizeof(uint32_t) + 1 > page.string_bytes) return false;
  uint32_t length;
  std::memcpy(&length, page.strings + offset, sizeof length);
  return size_t{offset} + sizeof(uint32_t) + length + 1 <= page.string_bytes;
}

std::shared_ptr<uint8_t> exact_bytes(size_t size) {
  std::shared_ptr<uint8_t> block(new uint8_t[size], std::default_delete<uint8_t[]>());
  advise_huge_pages(block.get(), size);
  return block;
}

// Container headers: an array's count or an object's shape, and which of the two.
constexpr uint32_t kObjectHeader = 1;
uint32_t array_header(size_t count) {
  return static_cast<uint32_t>(count << 1);
}
uint32_t object_header(size_t shape) {
  return static_cast<uint32_t>(shape << 1) | kObjectHeader;
}
// The values a container's header is followed by.
size_t header_count(const ShapePage& page, uint32_t header) {
  return (header & kObjectHeader) ? page.shapes[header >> 1] : header >> 1;
}

}  // namespace

bool ShapePage::valid_value(uint32_t slot, const std::vector<bool>& headers) const {
  const uint32_t at = payload(slot);
  switch (tag(slot)) {
    case kString:
      return string_in_bounds(*this, at);
    case kSmallInt:
      return true;
    case kInt64:
    case kUint64:
    case kDouble:
      return at < number_count;
    case kAtom:
      return at <= 2;
    case kObject:
    case kArray:
      return at < headers.size() && headers[at] &&
             ((slots[at] & kObjectHeader) != 0) == (tag(slot) == kObject);
  }
  return false;
}

bool ShapePage::valid(size_t max_depth, std::vector<bool>& headers) const {
  headers.assign(slot_count, false);
  // Shapes: a sequence of [count, key offsets...], each key a string of the page.
  std::vector<bool> shape_starts(shape_words, false);
  for (size_t s = 0; s < shape_words;) {
    const size_t count = shapes[s];
    if (count > shape_words - s - 1) return false;
    for (size_t k = 0; k < count; ++k)
      if (!string_in_bounds(*this, shapes[s + 1 + k])) return false;
    shape_starts[s] = true;
    s += 1 + count;
  }
  // Containers: [header, values...] one after another, children before their parents.
  std::vector<uint16_t> depth(slot_count, 0);
  for (size_t p = 0; p < slot_count;) {
    const uint32_t header = slots[p];
    if ((header & kObjectHeader) && !((header >> 1) < shape_words && shape_starts[header >> 1]))
      return false;
    const size_t count = header_count(*this, header);
    if (count > slot_count - p - 1) return false;
    size_t deepest = 0;
    for (size_t v = p + 1; v <= p + count; ++v) {
      const uint32_t slot = slots[v];
      if (!valid_value(slot, headers)) return false;  // containers: only those before p
      if (tag(slot) == kObject || tag(slot) == kArray)
        deepest = std::max<size_t>(deepest, depth[payload(slot)]);
    }
    if (deepest + 1 > max_depth) return false;
    depth[p] = static_cast<uint16_t>(deepest + 1);
    headers[p] = true;
    p += 1 + count;
  }
  return valid_value(root, headers);
}

// ------------------------------------------------------------------ ShapeEncoder

struct ShapeEncoder::State {
  struct Frame {
    size_t values;        // where its values start on the value stack
    size_t keys;          // where its member names start on the key stack
    size_t wanted_first;  // refs naming this container: [first, first + count)
    size_t wanted_count;
    uint32_t context;    // what the container is a value of (see element_context)
    uint32_t predicted;  // an object's expected shape + 1 while its names match it; 0 none
    bool object;
    bool expect_key;
  };
  GrowingStrings strings;
  std::vector<uint32_t> slots, values, keys, shapes;
  std::vector<uint64_t> numbers;
  std::vector<uint32_t> shape_table;  // open addressing: shape offset + 1; 0 empty
  size_t shape_entries = 0;
  std::vector<Frame> frames;

  // A value's context: the stored member name it is the value of (offset + 1), or for an array
  // element, a mix of the array's own context; 0 for the root. Records of a list repeat their
  // member names in the same order and their members' values are alike (an id never repeats, a
  // country often does), so both are predicted per context. A collision only costs a lookup.
  static uint32_t element_context(uint32_t array_context) {
    return (array_context * 0x9E3779B1u) ^ 0x80000001u;
  }
  static size_t context_index(uint32_t context, unsigned bits) {
    return (context * 0x9E3779B1u) >> (32 - bits);
  }
  // The shape the last object of a context had: the next one's member names are compared
  // with its names (one comparison each) instead of being hashed and looked up.
  struct LastShape {
    uint32_t context;
    uint32_t shape;  // + 1; 0 none
  };
  static constexpr unsigned kLastShapeBits = 8;
  std::vector<LastShape> last_shapes;
  // The string a context's last value was: many members hold one value in every record (a
  // content type, a parent reference), compared here before the string is hashed and looked up.
  struct LastValue {
    uint32_t context;
    uint32_t string;  // + 1; 0 none
  };
  static constexpr unsigned kLastValueBits = 10;
  std::vector<LastValue> last_values;

  void begin() {
    strings.begin();
    slots.clear();
    values.clear();
    keys.clear();
    shapes.clear();
    numbers.clear();
    frames.clear();
    shape_table.assign(std::max(shape_table.size(), size_t{64}), 0);
    shape_entries = 0;
    last_shapes.assign(size_t{1} << kLastShapeBits, LastShape{});
    last_values.assign(size_t{1} << kLastValueBits, LastValue{});
  }

  // The context of the value about to be added to the innermost open container.
  uint32_t context_of_next() const {
    if (frames.empty()) return 0;
    const Frame& frame = frames.back();
    return frame.object ? keys.back() + 1 : element_context(frame.context);
  }
  uint32_t predicted_shape(uint32_t context) const {
    const LastShape& last = last_shapes[context_index(context, kLastShapeBits)];
    return last.context == context ? last.shape : 0;
  }
  void remember_shape(uint32_t context, uint32_t shape) {
    last_shapes[context_index(context, kLastShapeBits)] = {context, shape + 1};
  }
  LastValue& last_value(uint32_t context) {
    return last_values[context_index(context, kLastValueBits)];
  }

  static uint64_t hash_keys(const uint32_t* keys, size_t count) {
    uint64_t hash = (count + 1) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < count; ++i) {
      hash = (hash ^ keys[i]) * 0x9E3779B97F4A7C15ull;
      hash ^= hash >> 29;
    }
    return hash;
  }

  // The offset of the shape with these member names, added when new.
  uint32_t shape_of(const uint32_t* member_names, size_t count) {
    const size_t mask = shape_table.size() - 1;
    for (size_t i = hash_keys(member_names, count) & mask;; i = (i + 1) & mask) {
      const uint32_t entry = shape_table[i];
      if (entry == 0) break;
      const uint32_t* shape = shapes.data() + entry - 1;
      if (shape[0] == count &&
          (count == 0 || std::memcmp(shape + 1, member_names, count * sizeof(uint32_t)) == 0))
        return entry - 1;
    }
    const auto offset = static_cast<uint32_t>(shapes.size());
    shapes.push_back(static_cast<uint32_t>(count));
    shapes.insert(shapes.end(), member_names, member_names + count);
    insert_shape(offset);
    if (++shape_entries * 2 > shape_table.size()) {
      std::vector<uint32_t> old(shape_table.size() * 2, 0);
      old.swap(shape_table);
      for (const uint32_t entry : old)
        if (entry != 0) insert_shape(entry - 1);
    }
    return offset;
  }

  void insert_shape(uint32_t offset) {
    const size_t mask = shape_table.size() - 1;
    size_t i = hash_keys(shapes.data() + offset + 1, shapes[offset]) & mask;
    while (shape_table[i] != 0) i = (i + 1) & mask;
    shape_table[i] = offset + 1;
  }
};

ShapeEncoder::ShapeEncoder() : state_(std::make_unique<State>()) {}
ShapeEncoder::~ShapeEncoder() = default;

Status ShapeEncoder::encode(const uint64_t* tape, size_t tape_length, const uint8_t* strings,
                            std::string_view omitted_suffix, const std::vector<uint64_t>& wanted,
                            uint32_t* refs, PageMemory* memory, ShapePage& out,
                            size_t unique_strings) {
  State& st = *state_;
  st.begin();
  const size_t wanted_count = wanted.size();
  size_t next = 0;  // the first entry of `wanted` not yet answered
  bool too_large = false;
  uint32_t root = ShapePage::kNull;

  if (unique_strings >= ShapePage::kLimit) too_large = true;
  // Stores the string at `offset` of `strings`, once per page.
  const auto intern = [&](uint64_t offset) -> uint32_t {
    if (unique_strings > 0) return static_cast<uint32_t>(offset);
    const std::string_view text = stored_string(strings, static_cast<size_t>(offset));
    st.strings.reserve_for(text.size());
    const size_t at = st.strings.interner->size() + text.size() + 5 >= ShapePage::kLimit
                          ? (too_large = true, 0)
                          : st.strings.interner->intern(text);
    return static_cast<uint32_t>(at);
  };
  // A string value: the context's last value when equal, else interned.
  const auto intern_value = [&](uint64_t offset) -> uint32_t {
    if (unique_strings > 0) return static_cast<uint32_t>(offset);
    const uint32_t context = st.context_of_next();
    State::LastValue& last = st.last_value(context);
    if (last.context == context && last.string != 0 &&
        st.strings.interner->holds(last.string - 1, strings + offset))
      return last.string - 1;
    const uint32_t at = intern(offset);
    last = {context, at + 1};
    return at;
  };
  const auto number = [&](ShapePage::Tag tag, uint64_t bits) {
    if (st.numbers.size() + 1 >= ShapePage::kLimit) too_large = true;
    st.numbers.push_back(bits);
    return ShapePage::make(tag, st.numbers.size() - 1);
  };
  // Entries of `wanted` before `index` name values left out; those at it name this value.
  const auto skip_to = [&](size_t index) {
    while (next < wanted_count && wanted[next] < index) refs[next++] = ShapePage::kMissing;
  };
  const auto answer = [&](size_t index, uint32_t slot) {
    skip_to(index);
    while (next < wanted_count && wanted[next] == index) refs[next++] = slot;
  };
  const auto add_value = [&](uint32_t slot) {
    if (st.frames.empty()) {
      root = slot;
      return;
    }
    st.values.push_back(slot);
    State::Frame& frame = st.frames.back();
    frame.expect_key = frame.object;
  };

  // The root words (first and last) are skipped.
  for (size_t i = 1; i + 1 < tape_length;) {
    const uint64_t word = tape[i];
    const uint64_t payload = word & kPayloadMask;
    switch (tape_type(word)) {
      case '"': {
        if (!st.frames.empty() && st.frames.back().expect_key) {
          State::Frame& frame = st.frames.back();
          frame.expect_key = false;
          if (!omitted_suffix.empty() &&
              stored_string(strings, static_cast<size_t>(payload)).ends_with(omitted_suffix)) {
            const size_t value = i + 1;
            const char type = tape_type(tape[value]);
            i = (type == '{' || type == '[') ? static_cast<size_t>(tape[value] & 0xFFFFFFFFu)
                                             : value + (is_number(type) ? 2 : 1);
            skip_to(i);
            frame.expect_key = true;
            continue;
          }
          if (frame.predicted != 0) {
            const uint32_t* shape = st.shapes.data() + frame.predicted - 1;
            const size_t member = st.keys.size() - frame.keys;
            if (member < shape[0] &&
                st.strings.interner->holds(shape[1 + member], strings + payload)) {
              st.keys.push_back(shape[1 + member]);
              ++i;
              continue;
            }
            frame.predicted = 0;
          }
          st.keys.push_back(intern(payload));
          ++i;
          continue;
        }
        const uint32_t slot = ShapePage::make(ShapePage::kString, intern_value(payload));
        answer(i, slot);
        add_value(slot);
        ++i;
        continue;
      }
      case 'l': {
        const auto value = static_cast<int64_t>(tape[i + 1]);
        constexpr int64_t kSmall = int64_t{1} << 28;
        const uint32_t slot =
            value >= -kSmall && value < kSmall
                ? (static_cast<uint32_t>(static_cast<int32_t>(value)) << 3) | ShapePage::kSmallInt
                : number(ShapePage::kInt64, tape[i + 1]);
        answer(i, slot);
        add_value(slot);
        i += 2;
        continue;
      }
      case 'u':
      case 'd': {
        const uint32_t slot =
            number(tape_type(word) == 'u' ? ShapePage::kUint64 : ShapePage::kDouble, tape[i + 1]);
        answer(i, slot);
        add_value(slot);
        i += 2;
        continue;
      }
      case 'n':
      case 't':
      case 'f': {
        const char type = tape_type(word);
        const uint32_t slot = type == 'n'   ? ShapePage::kNull
                              : type == 't' ? ShapePage::kTrue
                                            : ShapePage::kFalse;
        answer(i, slot);
        add_value(slot);
        ++i;
        continue;
      }
      case '{':
      case '[': {
        skip_to(i);
        const size_t first = next;
        while (next < wanted_count && wanted[next] == i) ++next;
        const bool object = tape_type(word) == '{';
        const uint32_t context = st.context_of_next();
        const uint32_t predicted = object && unique_strings == 0 ? st.predicted_shape(context) : 0;
        st.frames.push_back({st.values.size(), st.keys.size(), first, next - first, context,
                             predicted, object, object});
        ++i;
        continue;
      }
      case '}':
      case ']': {
        const State::Frame frame = st.frames.back();
        st.frames.pop_back();
        const size_t count = st.values.size() - frame.values;
        const size_t header = st.slots.size();
        if (header + 1 + count >= ShapePage::kLimit || st.shapes.size() >= ShapePage::kLimit) {
          too_large = true;
          break;
        }
        uint32_t header_word = array_header(count);
        if (frame.object) {
          // Every name matched the predicted shape: it is that shape when the count is too.
          const uint32_t shape = frame.predicted != 0 && st.shapes[frame.predicted - 1] == count
                                     ? frame.predicted - 1
                                     : st.shape_of(st.keys.data() + frame.keys, count);
          if (unique_strings == 0) st.remember_shape(frame.context, shape);
          header_word = object_header(shape);
        }
        st.slots.push_back(header_word);
        st.slots.insert(st.slots.end(), st.values.begin() + static_cast<ptrdiff_t>(frame.values),
                        st.values.end());
        st.values.resize(frame.values);
        st.keys.resize(frame.keys);
        const uint32_t slot =
            ShapePage::make(frame.object ? ShapePage::kObject : ShapePage::kArray, header);
        for (size_t w = frame.wanted_first; w < frame.wanted_first + frame.wanted_count; ++w)
          refs[w] = slot;
        add_value(slot);
        ++i;
        continue;
      }
      default:
        ++i;
        continue;
    }
    if (too_large) break;
  }
  if (too_large) {
    return Error("extract.too_large",
                 "a page is too large to keep (over 512 MB of distinct strings or 512 million "
                 "values)",
                 "request smaller pages from the source");
  }
  skip_to(SIZE_MAX);

  out = ShapePage();
  out.slot_count = st.slots.size();
  out.shape_words = st.shapes.size();
  out.number_count = st.numbers.size();
  const uint8_t* kept_strings = unique_strings > 0 ? strings : st.strings.buffer.get();
  out.string_bytes = unique_strings > 0 ? unique_strings : st.strings.interner->size();
  out.root = root;
  const ShapePage::Layout at =
      ShapePage::layout(out.slot_count, out.shape_words, out.number_count, out.string_bytes);
  std::shared_ptr<uint8_t> block = memory ? memory->bytes(at.total) : exact_bytes(at.total);
  uint8_t* base = block.get();
  if (out.slot_count > 0) std::memcpy(base, st.slots.data(), out.slot_count * sizeof(uint32_t));
  if (out.shape_words > 0)
    std::memcpy(base + at.shapes, st.shapes.data(), out.shape_words * sizeof(uint32_t));
  if (out.number_count > 0)
    std::memcpy(base + at.numbers, st.numbers.data(), out.number_count * sizeof(uint64_t));
  if (out.string_bytes > 0) std::memcpy(base + at.strings, kept_strings, out.string_bytes);
  std::memset(base + at.strings + out.string_bytes, 0, simdjson::SIMDJSON_PADDING);
  out.attach(std::move(block));
  return ok_status();
}

// ------------------------------------------------------------------ DecodedValue

struct DecodedValue::Pooled {
  simdjson::dom::document document;
  size_t capacity = 0;
  size_t size = 0;

  ~Pooled() { (void)document.string_buf.release(); }  // the page's, not ours
  void push(uint64_t word) {
    if (size == capacity) grow();
    document.tape[size++] = word;
  }
  void grow() {
    const size_t bigger = std::max<size_t>(capacity * 2, 256);
    std::unique_ptr<uint64_t[]> tape(new uint64_t[bigger]);
    if (size > 0) std::memcpy(tape.get(), document.tape.get(), size * sizeof(uint64_t));
    document.tape = std::move(tape);
    capacity = bigger;
  }
};

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kReuseDocuments = false;  // a value used after its handle is gone: ASan says so
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kReuseDocuments = false;
#else
constexpr bool kReuseDocuments = true;
#endif
#else
constexpr bool kReuseDocuments = true;
#endif

// Per thread, a few decoded documents to reuse: decoding writes into warm memory.
struct DocumentPool {
  static constexpr size_t kKept = 16;
  static constexpr size_t kKeptCapacity = size_t{1} << 16;  // words: larger tapes are freed
  std::vector<DecodedValue::Pooled*> free;
  ~DocumentPool() {
    for (DecodedValue::Pooled* document : free) delete document;
  }
};

DocumentPool& document_pool() {
  thread_local DocumentPool pool;
  return pool;
}

uint64_t tape_word(char type, uint64_t payload) {
  return (static_cast<uint64_t>(static_cast<unsigned char>(type)) << 56) | payload;
}

// Appends the tape words of `slot` (simdjson's layout, as its parser writes the same value).
void decode_into(const ShapePage& page, uint32_t slot, DecodedValue::Pooled& out) {
  const uint32_t at = ShapePage::payload(slot);
  switch (ShapePage::tag(slot)) {
    case ShapePage::kString:
      out.push(tape_word('"', at));
      return;
    case ShapePage::kSmallInt:
      out.push(tape_word('l', 0));
      out.push(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(slot) >> 3)));
      return;
    case ShapePage::kInt64:
    case ShapePage::kUint64:
    case ShapePage::kDouble: {
      const ShapePage::Tag tag = ShapePage::tag(slot);
      out.push(tape_word(tag == ShapePage::kInt64    ? 'l'
                         : tag == ShapePage::kUint64 ? 'u'
                                                     : 'd',
                         0));
      out.push(page.numbers[at]);
      return;
    }
    case ShapePage::kAtom:
      out.push(tape_word(at == 0 ? 'n' : at == 1 ? 't' : 'f', 0));
      return;
    case ShapePage::kObject:
    case ShapePage::kArray: {
      const bool object = ShapePage::tag(slot) == ShapePage::kObject;
      const uint32_t header = page.slots[at];
      const size_t count = header_count(page, header);
      const uint32_t* names = object ? page.shapes + (header >> 1) + 1 : nullptr;
      const uint32_t* values = page.slots + at + 1;
      const size_t start = out.size;
      out.push(0);
      for (size_t i = 0; i < count; ++i) {
        if (object) out.push(tape_word('"', names[i]));
        decode_into(page, values[i], out);
      }
      // As simdjson's tape builder: the start word holds the index after the end word and the
      // count (saturated at 0xFFFFFF), the end word the start word's index.
      const uint64_t saturated = std::min<uint64_t>(count, 0xFFFFFF);
      out.document.tape[start] =
          tape_word(object ? '{' : '[', (saturated << 32) | static_cast<uint64_t>(out.size + 1));
      out.push(tape_word(object ? '}' : ']', start));
      return;
    }
  }
}

}  // namespace

DecodedValue::DecodedValue(const ShapePage& page, uint32_t slot) {
  DocumentPool& pool = document_pool();
  if (!pool.free.empty()) {
    document_ = pool.free.back();
    pool.free.pop_back();
  } else {
    document_ = new Pooled();
  }
  Pooled& out = *document_;
  out.size = 0;
  out.push(0);
  decode_into(page, slot, out);
  out.push(tape_word('r', 0));
  out.document.tape[0] = tape_word('r', out.size);
  (void)out.document.string_buf.release();
  out.document.string_buf.reset(const_cast<uint8_t*>(page.strings));
}

DecodedValue::~DecodedValue() {
  release();
}

void DecodedValue::release() {
  if (!document_) return;
  DocumentPool& pool = document_pool();
  if (kReuseDocuments && pool.free.size() < DocumentPool::kKept &&
      document_->capacity <= DocumentPool::kKeptCapacity) {
    pool.free.push_back(document_);
  } else {
    delete document_;
  }
  document_ = nullptr;
}

DecodedValue& DecodedValue::operator=(DecodedValue&& other) noexcept {
  if (this != &other) {
    release();
    document_ = std::exchange(other.document_, nullptr);
    kept_ = std::move(other.kept_);
  }
  return *this;
}

simdjson::dom::element DecodedValue::root() const {
  return element_at(document_->document, 1);
}

struct TapeWriter::Strings : GrowingStrings {};

TapeWriter::TapeWriter() : strings_(std::make_unique<Strings>()) {}
TapeWriter::~TapeWriter() {
  release_view();
}

void TapeWriter::begin_document() {
  tape_.clear();
  open_.clear();
  release_view();
  strings_->begin();
  tape_.push_back(word('r', 0));  // its payload (the tape length) is set by finish_page
}

uint64_t TapeWriter::string_offset(std::string_view text) {
  Strings& strings = *strings_;
  strings.reserve_for(text.size());
  StringInterner& interner = *strings.interner;
  // The interner's table holds 32-bit offsets: past 4 GB strings are stored unshared.
  if (interner.size() + text.size() + 5 >= std::numeric_limits<uint32_t>::max())
    return interner.append_unshared(text);
  return interner.intern(text);
}

size_t TapeWriter::string_bytes() const {
  return strings_->interner ? strings_->interner->size() : 0;
}

size_t TapeWriter::size_bytes() const {
  return tape_.size() * sizeof(uint64_t) + (strings_->interner ? strings_->interner->size() : 0);
}

void TapeWriter::real(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  number('d', bits);
}

// As simdjson's tape builder: the start word holds the index after the end word and the
// element count (saturated at 0xFFFFFF), the end word the start word's index.
void TapeWriter::end_container(char type) {
  const Open open = open_.back();
  open_.pop_back();
  const uint64_t count = std::min<uint64_t>(open.count, 0xFFFFFF);
  tape_[open.start] |= (count << 32) | static_cast<uint64_t>(tape_.size() + 1);
  tape_.push_back(word(type, open.start));
}

void TapeWriter::finish_document() {
  assert(open_.empty());
  tape_.push_back(word('r', 0));
  tape_[0] = word('r', tape_.size());
  release_view();
  view_.tape.reset(tape_.data());
  view_.string_buf.reset(strings_->buffer.get());
}

void TapeWriter::release_view() {
  (void)view_.tape.release();
  (void)view_.string_buf.release();
}

// An anonymous mapping of `bytes`, 2 MB aligned (so that all of it can be huge pages) and
// advised for them; unmapped when the last page cut from it goes.
struct PageMemory::Chunk {
  static constexpr size_t kHugePage = size_t{2} << 20;
  uint8_t* start;
  size_t bytes;

  explicit Chunk(size_t size) : bytes(size) {
    void* mapped = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();  // as new[] would
    const auto address = reinterpret_cast<uintptr_t>(mapped);
    const uintptr_t aligned = (address + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > address) ::munmap(mapped, aligned - address);
    const uintptr_t end = address + size + kHugePage;
    if (end > aligned + size)
      ::munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
    start = reinterpret_cast<uint8_t*>(aligned);
    ::madvise(start, size, MADV_HUGEPAGE);
  }
  ~Chunk() { ::munmap(start, bytes); }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  // Faults every page in by writing a byte to it (the memory is zero already).
  void fault_in() const {
    for (size_t offset = 0; offset < bytes; offset += 4096)
      reinterpret_cast<volatile uint8_t*>(start)[offset] = 0;
  }
  // Gives back the memory from `offset` on (never used: no page is cut from it later).
  void release_from(size_t offset) const {
    offset = (offset + 4095) & ~size_t{4095};
    if (offset < bytes) ::madvise(start + offset, bytes - offset, MADV_DONTNEED);
  }
};

PageMemory::PageMemory() = default;

PageMemory::~PageMemory() {
  if (faulting_.joinable()) faulting_.join();
  if (chunk_) chunk_->release_from(used_);
}

void PageMemory::prepare_next() {
  if (next_) return;
  next_ = std::make_shared<Chunk>(kChunkBytes);
  try {
    faulting_ = std::thread([chunk = next_] { chunk->fault_in(); });
  } catch (const std::system_error&) {
    // No thread to spare: the chunk's pages fault in as they are first written.
  }
}

std::shared_ptr<PageMemory::Chunk> PageMemory::take_next() {
  prepare_next();  // not prepared yet: mapped now, faulted in by the helper meanwhile
  if (faulting_.joinable()) faulting_.join();
  return std::move(next_);
}

std::shared_ptr<uint8_t> PageMemory::bytes(size_t size) {
  constexpr size_t kAlign = 64;  // a cache line
  const size_t rounded = (size + kAlign - 1) & ~(kAlign - 1);
  handed_out_ += rounded;
  if (handed_out_ > kExactBytes / 2) prepare_next();  // the first chunk, while in exact buffers
  if (handed_out_ <= kExactBytes || rounded > kChunkBytes / 4) return exact_bytes(size);
  if (!chunk_ || used_ + rounded > chunk_->bytes) {
    if (chunk_) chunk_->release_from(used_);
    chunk_ = take_next();
    used_ = 0;
    ++chunks_;
  }
  uint8_t* at = chunk_->start + used_;
  used_ += rounded;
  if (used_ > chunk_->bytes / 2) prepare_next();
  return std::shared_ptr<uint8_t>(chunk_, at);  // shares the chunk's ownership
}

}  // namespace extdata::extract

namespace extdata::extract {

namespace {
// simdjson 3.0.1's dom::element is exactly one internal::tape_ref {const document* doc;
// size_t json_index;} (dom/element.h, internal/tape_ref.h).
struct ElementLayout {
  const simdjson::dom::document* doc;
  size_t json_index;
};
static_assert(sizeof(simdjson::dom::element) == sizeof(ElementLayout));
static_assert(std::is_trivially_copyable_v<simdjson::dom::element>);
}  // namespace

void advise_huge_pages(void* start, size_t bytes) {
  constexpr size_t kFourHugePages = size_t{8} << 20;
  if (bytes >= kFourHugePages) memory::advise_huge_pages(start, bytes);
}

size_t tape_length(const simdjson::dom::document& document) {
  return tape_length_of(document);
}

size_t tape_index(simdjson::dom::element element) {
  return std::bit_cast<ElementLayout>(element).json_index;
}

simdjson::dom::element element_at(const simdjson::dom::document& document, size_t index) {
  return std::bit_cast<simdjson::dom::element>(ElementLayout{&document, index});
}

}  // namespace extdata::extract
