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

template <typename T>
std::unique_ptr<T[]> allocate_buffer(size_t count) {
  std::unique_ptr<T[]> buffer(new T[count]);
  advise_huge_pages(buffer.get(), count * sizeof(T));
  return buffer;
}

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

size_t string_end_at(const simdjson::dom::document& document, size_t tape_index) {
  const size_t offset = static_cast<size_t>(document.tape[tape_index] & kPayloadMask);
  return offset + sizeof(uint32_t) + stored_string(document.string_buf.get(), offset).size() + 1;
}

// simdjson writes strings to string_buf in document order, so the used size is the end of the
// last string in document order. Finds it by visiting only the direct children of the
// containers on the way (nested containers are skipped via their end index), instead of
// scanning the whole tape. Returns 0 when the subtree holds no string.
size_t strings_end_in(const simdjson::dom::document& document, size_t open) {
  const uint64_t* tape = document.tape.get();
  const size_t close = static_cast<size_t>(tape[open] & 0xFFFFFFFFu) - 1;
  std::vector<size_t> candidates;  // strings and containers, in document order
  for (size_t i = open + 1; i < close;) {
    const char type = tape_type(tape[i]);
    if (type == '"') {
      candidates.push_back(i);
      ++i;
    } else if (type == '{' || type == '[') {
      candidates.push_back(i);
      i = static_cast<size_t>(tape[i] & 0xFFFFFFFFu);
    } else if (is_number(type)) {
      i += 2;  // the number itself occupies the next word
    } else {
      ++i;
    }
  }
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (tape_type(tape[*it]) == '"') return string_end_at(document, *it);
    if (const size_t end = strings_end_in(document, *it)) return end;
  }
  return 0;
}

size_t strings_end_by_scan(const simdjson::dom::document& document, size_t tape_length) {
  size_t end = 0;
  for (size_t i = 0; i < tape_length; ++i) {
    const char type = tape_type(document.tape[i]);
    if (type == '"') end = std::max(end, string_end_at(document, i));
    if (is_number(type)) ++i;
  }
  return end;
}

struct UsedSizes {
  size_t tape_words = 0;
  size_t string_bytes = 0;
};

// The root word points one past the closing root word: that is the tape length.
size_t tape_length_of(const simdjson::dom::document& document) {
  return static_cast<size_t>(document.tape[0] & kPayloadMask);
}

size_t strings_end_of(const simdjson::dom::document& document) {
  const char root_type = tape_type(document.tape[1]);
  if (root_type == '"') return string_end_at(document, 1);
  if (root_type == '{' || root_type == '[') return strings_end_in(document, 1);
  return 0;
}

// How much of a parsed document's worst-case buffers holds data.
UsedSizes used_sizes(const simdjson::dom::document& from) {
  const size_t tape_length = tape_length_of(from);
  const size_t strings_end = strings_end_of(from);
  // tests/unit/extract (SimdjsonTape*) run this cross-check on purpose-built documents.
  assert(strings_end == strings_end_by_scan(from, tape_length));
  return {tape_length, strings_end};
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
      if (string_at(offset) == text) return offset;
    }
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

// Leaves out, in place, every object member whose name ends with `suffix`, value and all,
// and returns the new tape length. Container words keep simdjson's format: each start word
// holds the index after its end word and its element count (a saturated count stays
// saturated, which simdjson treats as "count by iterating"), each end word its start's index.
// Writes never pass reads, so the tape is compacted where it lies.
size_t omit_members(uint64_t* tape, const uint8_t* strings, size_t tape_length,
                    std::string_view suffix) {
  constexpr uint64_t kSaturatedCount = 0xFFFFFF;
  struct Open {
    size_t start;          // the start word's new index
    uint64_t omitted = 0;  // members left out of this container
    bool object = false;
    bool expect_key = false;
  };
  std::vector<Open> open;
  auto value_done = [&open] {
    if (!open.empty() && open.back().object) open.back().expect_key = true;
  };
  auto name_is_omitted = [&](uint64_t word) {
    return stored_string(strings, static_cast<size_t>(word & kPayloadMask)).ends_with(suffix);
  };
  size_t write = 0;
  for (size_t read = 0; read < tape_length;) {
    const uint64_t word = tape[read];
    const char type = tape_type(word);
    if (type == '"' && !open.empty() && open.back().expect_key) {  // a member name
      open.back().expect_key = false;
      if (name_is_omitted(word)) {
        const size_t value = read + 1;
        const char value_type = tape_type(tape[value]);
        if (value_type == '{' || value_type == '[') {
          read = static_cast<size_t>(tape[value] & 0xFFFFFFFFu);
        } else if (is_number(value_type)) {
          read = value + 2;
        } else {
          read = value + 1;
        }
        ++open.back().omitted;
        open.back().expect_key = true;
        continue;
      }
      tape[write++] = word;
      ++read;
      continue;
    }
    if (type == '{' || type == '[') {
      open.push_back({write, 0, type == '{', type == '{'});
      tape[write++] = word;
      ++read;
      continue;
    }
    if (type == '}' || type == ']') {
      const Open closed = open.back();
      open.pop_back();
      const uint64_t start_word = tape[closed.start];
      uint64_t count = (start_word >> 32) & kSaturatedCount;
      if (count != kSaturatedCount) count -= closed.omitted;
      tape[closed.start] =
          (start_word & ~kPayloadMask) | (count << 32) | static_cast<uint64_t>(write + 1);
      tape[write++] = (word & ~kPayloadMask) | closed.start;
      ++read;
      value_done();
      continue;
    }
    tape[write++] = word;
    ++read;
    if (is_number(type)) tape[write++] = tape[read++];
    if (type != 'r') value_done();
  }
  // The opening root word points one past the closing root word.
  tape[0] = (tape[0] & ~kPayloadMask) | write;
  return write;
}

}  // namespace

// simdjson sizes a document for the worst case (8 bytes of tape and 5/3 bytes of strings per
// input byte) and writes every string occurrence. Copies the used part of `from`'s tape into
// an exactly sized buffer of `to`, pointing its string words at one copy of each distinct
// string (see StringInterner), and those strings into an exactly sized buffer. The strings are
// gathered in place at the front of `from`'s string buffer: simdjson writes them in document
// order, so the write position never passes the string being read. `from` is the scratch
// document and its strings are spent afterwards. Returns the bytes now held by `to`.
size_t TapeCompactor::compact(simdjson::dom::document& from, simdjson::dom::document& to,
                              std::string_view omitted_suffix) {
  const UsedSizes used = used_sizes(from);
  const size_t strings_end = used.string_bytes;
  const size_t tape_length =
      omitted_suffix.empty()
          ? used.tape_words
          : omit_members(from.tape.get(), from.string_buf.get(), used.tape_words, omitted_suffix);
  to.tape = allocate_buffer<uint64_t>(tape_length);
  uint64_t* tape = to.tape.get();
  const uint64_t* source = from.tape.get();

  uint8_t* strings = from.string_buf.get();
  size_t strings_size = strings_end;  // offsets past 4 GB do not fit the table: kept as written
  if (strings_end <= std::numeric_limits<uint32_t>::max()) {
    // One pass copies the tape and points its string words at the shared strings: a memcpy
    // first and a second pass over the copy cost a fifth more of the compaction's time.
    StringInterner interner(string_slots_, strings);
    for (size_t i = 0; i < tape_length; ++i) {
      uint64_t word = source[i];
      const char type = tape_type(word);
      if (type == '"') {
        const std::string_view text =
            stored_string(strings, static_cast<size_t>(word & kPayloadMask));
        word = (word & ~kPayloadMask) | interner.intern(text);
      } else if (is_number(type)) {
        tape[i] = word;
        word = source[++i];  // the number itself occupies the next word
      }
      tape[i] = word;
    }
    strings_size = interner.size();
  } else {
    std::memcpy(tape, source, tape_length * sizeof(uint64_t));
  }
  const size_t string_bytes = strings_size + simdjson::SIMDJSON_PADDING;
  to.string_buf = allocate_buffer<uint8_t>(string_bytes);
  if (strings_size > 0) std::memcpy(to.string_buf.get(), strings, strings_size);
  std::memset(to.string_buf.get() + strings_size, 0, simdjson::SIMDJSON_PADDING);
  return tape_length * sizeof(uint64_t) + string_bytes;
}

struct TapeWriter::Strings {
  std::vector<uint64_t> slots;  // the interner's table, reused from document to document
  std::unique_ptr<uint8_t[]> buffer;
  size_t capacity = 0;
  std::optional<StringInterner> interner;

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

TapeWriter::TapeWriter() : strings_(std::make_unique<Strings>()) {}
TapeWriter::~TapeWriter() = default;

void TapeWriter::begin_document() {
  tape_.clear();
  open_.clear();
  strings_->interner.emplace(strings_->slots, strings_->buffer.get());
  tape_.push_back(word('r', 0));  // its payload (the tape length) is set by finish_document
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

size_t TapeWriter::finish_document(PageMemory& memory,
                                   std::shared_ptr<simdjson::dom::document>& to) {
  assert(open_.empty());
  tape_.push_back(word('r', 0));
  tape_[0] = word('r', tape_.size());
  const size_t strings_size = strings_->interner->size();
  const size_t string_bytes = strings_size + simdjson::SIMDJSON_PADDING;
  to = memory.document(tape_.size(), string_bytes);
  std::memcpy(to->tape.get(), tape_.data(), tape_.size() * sizeof(uint64_t));
  if (strings_size > 0) std::memcpy(to->string_buf.get(), strings_->buffer.get(), strings_size);
  std::memset(to->string_buf.get() + strings_size, 0, simdjson::SIMDJSON_PADDING);
  return tape_.size() * sizeof(uint64_t) + string_bytes;
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

std::shared_ptr<simdjson::dom::document> PageMemory::document(size_t tape_words,
                                                              size_t string_bytes) {
  constexpr size_t kAlign = 64;  // a cache line
  const size_t tape_bytes = (tape_words * sizeof(uint64_t) + kAlign - 1) & ~(kAlign - 1);
  const size_t bytes = tape_bytes + ((string_bytes + kAlign - 1) & ~(kAlign - 1));
  handed_out_ += bytes;
  if (handed_out_ > kExactBytes / 2) prepare_next();  // the first chunk, while in exact buffers
  if (handed_out_ <= kExactBytes || bytes > kChunkBytes / 4) {
    auto document = std::make_shared<simdjson::dom::document>();
    document->tape = allocate_buffer<uint64_t>(tape_words);
    document->string_buf = allocate_buffer<uint8_t>(string_bytes);
    return document;
  }
  if (!chunk_ || used_ + bytes > chunk_->bytes) {
    if (chunk_) chunk_->release_from(used_);
    chunk_ = take_next();
    used_ = 0;
    ++chunks_;
  }
  uint8_t* at = chunk_->start + used_;
  used_ += bytes;
  if (used_ > chunk_->bytes / 2) prepare_next();
  // The document's buffers are the chunk's: released, not deleted, with the document.
  std::shared_ptr<simdjson::dom::document> document(new simdjson::dom::document(),
                                                    [chunk = chunk_](simdjson::dom::document* d) {
                                                      (void)d->tape.release();
                                                      (void)d->string_buf.release();
                                                      delete d;
                                                    });
  document->tape.reset(reinterpret_cast<uint64_t*>(at));
  document->string_buf.reset(at + tape_bytes);
  return document;
}

size_t TapeCompactor::strings_end(const simdjson::dom::document& document) {
  return strings_end_of(document);
}

size_t TapeCompactor::strings_end_by_scan(const simdjson::dom::document& document) {
  return extract::strings_end_by_scan(document, tape_length_of(document));
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
