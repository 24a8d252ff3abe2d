#pragma once
// The one place that knows simdjson's private DOM layout. A dom::document holds a "tape" of
// 64-bit words (type in the top 8 bits, payload in the low 56; containers store the index
// after their end word and a 24-bit element count; numbers take a second word) and a string
// buffer of length-prefixed strings (4-byte length, bytes, NUL). These are public members of
// dom::document but not simdjson's documented API, so a new simdjson could change them and
// RecordSet would then corrupt records silently. RecordSet reads simdjson's tape once per page
// (ShapeEncoder) and writes tapes for its readers (DecodedValue, TapeWriter), here only.
//
// Written for, and verified against, simdjson 3.0.1 (Debian 12). The build fails on any other
// version. Before accepting a new one, re-verify against its sources:
//   - internal/tape_type.h and dom/document.h: the type letters (' r { } [ ] " l u d t f n'),
//     the 56-bit payload, the tape[0] root word holding the tape length;
//   - generic/stage2/tape_builder.h / tape_writer.h: container words (index after the end word
//     in the low 32 bits, count in bits 32-55, saturated at 0xFFFFFF), two-word numbers;
//   - the string buffer format (a decoded value's string buffer is a shape page's strings);
//   - dom::element being exactly {const document*, size_t tape index} (element_at below);
// then run tests/unit/extract (RecordSet*, SimdjsonTape*, ShapePage*) and update the check
// below.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"

static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3 && simdjson::SIMDJSON_VERSION_MINOR == 0 &&
                  simdjson::SIMDJSON_VERSION_REVISION == 1,
              "extract/simdjson_tape.cpp rewrites simdjson's private tape and string buffer and "
              "was verified against simdjson 3.0.1 only: re-verify the layout listed in "
              "extract/simdjson_tape.h against this simdjson version, then update this check");

namespace extdata::extract {

class PageMemory;

// A page of records in the shape layout: what RecordSet keeps of each page instead of simdjson's
// tape (8 bytes per value, per member name and per container end). Immutable once encoded, and
// shared between record sets (RecordSet::combine).
//
//   slots    4-byte words. A value is one slot word (tag in the low 3 bits, payload above):
//            a string (payload: its offset in `strings`), a small integer (29-bit signed, inline),
//            an int64, uint64 or double (payload: its index in `numbers`), null/true/false, or
//            an object or array (payload: the position of its header in `slots`). A container
//            is a header followed by one slot per value: for an array its count, for an object
//            its shape (an offset in `shapes`). Containers are written when they close, so a
//            container's children lie before it (a decode always terminates).
//   shapes   per distinct key sequence of the page's objects, once: the member count, then each
//            member name's offset in `strings`. Objects with the same members share it.
//   numbers  8-byte numbers that do not fit a slot.
//   strings  each distinct string of up to 128 bytes once (longer ones as they come), in
//            simdjson's string format (4-byte length, bytes, NUL), followed by
//            SIMDJSON_PADDING zero bytes: a decoded value's string buffer IS these bytes.
// Limits (2^29): 512 MB of strings, 512 M slots or numbers per page; a larger page is the
// error "extract.too_large" (request smaller pages).
struct ShapePage {
  enum Tag : uint32_t {
    kString = 0,
    kSmallInt = 1,
    kInt64 = 2,
    kUint64 = 3,
    kDouble = 4,
    kAtom = 5,  // payload 0 null, 1 true, 2 false
    kObject = 6,
    kArray = 7,
  };
  static constexpr uint32_t kNull = kAtom, kTrue = kAtom | (1u << 3), kFalse = kAtom | (2u << 3);
  // Not a value: a column that matched nothing, a record left out with its member.
  static constexpr uint32_t kMissing = kAtom | (7u << 3);
  static constexpr size_t kLimit = size_t{1} << 29;
  static Tag tag(uint32_t slot) { return static_cast<Tag>(slot & 7u); }
  static uint32_t payload(uint32_t slot) { return slot >> 3; }
  static uint32_t make(Tag tag, size_t payload) {
    return static_cast<uint32_t>(payload << 3) | tag;
  }

  const uint32_t* slots = nullptr;
  size_t slot_count = 0;
  const uint32_t* shapes = nullptr;
  size_t shape_words = 0;
  const uint64_t* numbers = nullptr;
  size_t number_count = 0;
  const uint8_t* strings = nullptr;
  size_t string_bytes = 0;          // without the padding
  uint32_t root = kNull;            // the page's root value
  std::shared_ptr<uint8_t> memory;  // holds all of the above, in this order

  // Bytes held (the one block of `memory`).
  size_t bytes() const;
  // The block's layout for `slot_count` ... `string_bytes`: offsets of each part and its size.
  struct Layout {
    size_t shapes, numbers, strings, total;
  };
  static Layout layout(size_t slot_count, size_t shape_words, size_t number_count,
                       size_t string_bytes);
  // Points the parts at `memory`, laid out as layout() says.
  void attach(std::shared_ptr<uint8_t> block);
  // Checks a page read from outside (a snapshot) so that decoding it stays in bounds and ends:
  // every slot, shape and string inside the page, every container's children before it,
  // nesting at most `max_depth`. False when any is not so. `headers` receives, per slot, whether
  // a container starts there (for valid_value()).
  bool valid(size_t max_depth, std::vector<bool>& headers) const;
  // True when `slot` is a value of this page (`headers` from valid()): record and column refs.
  bool valid_value(uint32_t slot, const std::vector<bool>& headers) const;
};

// Encodes parsed documents (simdjson's tape: the reused scratch document of a parse, or
// TapeWriter's) into shape pages. Not thread-safe: one per thread (it keeps its tables warm
// from page to page).
class ShapeEncoder {
 public:
  ShapeEncoder();
  ~ShapeEncoder();
  ShapeEncoder(const ShapeEncoder&) = delete;
  ShapeEncoder& operator=(const ShapeEncoder&) = delete;

  // Encodes the document on `tape` (simdjson's layout, `tape_length` words, the root words
  // included) whose strings are in `strings` (simdjson's format), leaving out every object
  // member whose name ends with `omitted_suffix` (none when empty), into `out`, with memory
  // from `memory` (exactly sized buffers of its own when null). `wanted` lists tape indexes
  // of values (sorted ascending, duplicates allowed); refs[i] receives the slot word of the
  // value at wanted[i], or kMissing when it lies in an omitted member. Error
  // "extract.too_large" when the page exceeds ShapePage's limits. `unique_strings` > 0: the
  // first that many bytes of `strings` hold each string once already (TapeWriter's), and are
  // kept as they are instead of being looked up again.
  Status encode(const uint64_t* tape, size_t tape_length, const uint8_t* strings,
                std::string_view omitted_suffix, const std::vector<uint64_t>& wanted,
                uint32_t* refs, PageMemory* memory, ShapePage& out, size_t unique_strings = 0);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A value of a shape page decoded into a small simdjson document of its own, for every reader
// that takes simdjson::dom::element (JSONPath, templates, the JSON writer). The document's
// string buffer is the page's: the handle is valid while the page lives (the record set it
// came from), and root() while the handle lives. Decoding writes the value's tape words only
// (~100 for a Graph item) into a buffer reused from a small per-thread pool.
class DecodedValue {
 public:
  DecodedValue(const ShapePage& page, uint32_t slot);
  ~DecodedValue();
  DecodedValue(DecodedValue&& other) noexcept
      : document_(std::exchange(other.document_, nullptr)), kept_(std::move(other.kept_)) {}
  DecodedValue& operator=(DecodedValue&& other) noexcept;
  DecodedValue(const DecodedValue&) = delete;
  DecodedValue& operator=(const DecodedValue&) = delete;

  simdjson::dom::element root() const;
  // Keeps `memory` (the page's) alive while the handle lives, for a handle that may outlive
  // the set it came from (RecordSet::last_page_root).
  void keep(std::shared_ptr<uint8_t> memory) { kept_ = std::move(memory); }

  struct Pooled;  // a document and its tape's capacity

 private:
  void release();  // the document back to the pool
  Pooled* document_;
  std::shared_ptr<uint8_t> kept_;
};

// The kept buffers of a series of pages (one fetch's), taken from large chunks once the series
// is large. A page's tape and string buffer are written once and read for the life of the
// records; first touching fresh memory costs a page fault per 4 KB (a quarter of a large SQL
// fetch's time when each page had buffers of its own). The first kExactBytes of a series get
// exactly sized buffers of their own, as before, so small record sets hold no more than they
// use; later buffers are cut from chunks of kChunkBytes, 2 MB aligned and advised for
// transparent huge pages, which turns those faults into one per 2 MB where the kernel grants
// them. A page keeps the chunks its buffers lie in alive (set combine() shares pages), so a
// set keeping one page of a fetch keeps up to one chunk.
//
// Faulting memory in is the kernel zeroing it (and, in a VM, the host backing it), a third of
// a large fetch's time even with huge pages; a helper thread faults the next chunk in while
// this one is filled (from half way through the exact part, and from half way through each
// chunk), so that work runs on another core. When the PageMemory goes (the fetch is over), a
// chunk prepared but not used is unmapped and the unused tail of the last chunk is given back.
// Not thread-safe.
class PageMemory {
 public:
  static constexpr size_t kExactBytes = size_t{8} << 20;
  static constexpr size_t kChunkBytes = size_t{16} << 20;

  PageMemory();
  ~PageMemory();
  PageMemory(const PageMemory&) = delete;
  PageMemory& operator=(const PageMemory&) = delete;

  // `size` bytes, not initialised, 64-byte aligned; the pointer keeps the memory alive.
  std::shared_ptr<uint8_t> bytes(size_t size);
  // Chunks taken so far (for tests).
  size_t chunks() const { return chunks_; }

 private:
  struct Chunk;
  // Starts faulting in the chunk to take after chunk_, unless that has started.
  void prepare_next();
  // The prepared chunk, once its helper thread is done.
  std::shared_ptr<Chunk> take_next();

  std::shared_ptr<Chunk> chunk_;  // the chunk buffers are cut from now
  size_t used_ = 0;               // of chunk_
  size_t handed_out_ = 0;         // bytes of all buffers so far
  size_t chunks_ = 0;
  std::shared_ptr<Chunk> next_;  // being faulted in by faulting_
  std::thread faulting_;
};

// Writes a document's tape and string buffer directly from typed values, in the layout
// simdjson's parser produces for the same JSON text — for records that come as typed values
// (SQL rows, record_set_builder.h), which would otherwise be written as JSON text only to be
// parsed again. Strings up to 128 bytes are stored once per document.
// Values are written in document order: start_object / key / value ... / end_object, etc.
// Not thread-safe; reuse one writer from document to document (its buffers stay warm).
class TapeWriter {
 public:
  TapeWriter();
  ~TapeWriter();
  TapeWriter(const TapeWriter&) = delete;
  TapeWriter& operator=(const TapeWriter&) = delete;

  // Starts a new document (whose root is the next value written).
  void begin_document();
  void start_array() { start_container('[', false); }
  void start_object() { start_container('{', true); }
  void end_array() { end_container(']'); }
  void end_object() { end_container('}'); }
  // A member name in the open object; strings must be valid UTF-8.
  void key(std::string_view name) { key_at(string_offset(name)); }
  // A member name already stored by string_offset() in this document.
  void key_at(uint64_t offset) {
    ++open_.back().count;
    tape_.push_back(word('"', offset));
  }
  // Stores `text` (shared with equal short strings) and returns its offset, for key_at().
  uint64_t string_offset(std::string_view text);
  void string(std::string_view text) {
    value_added();
    tape_.push_back(word('"', string_offset(text)));
  }
  void int64(int64_t value) { number('l', static_cast<uint64_t>(value)); }
  void uint64(uint64_t value) { number('u', value); }
  void real(double value);
  void boolean(bool value) { atom(value ? 't' : 'f'); }
  void null() { atom('n'); }

  // The bytes the document holds so far (tape and strings).
  size_t size_bytes() const;
  // The tape position the next value will take (for element_at()).
  size_t next_index() const { return tape_.size(); }
  // Closes the document (every container must be closed). document() then reads it, until
  // the next begin_document(): for evaluating columns and encoding it (ShapeEncoder).
  void finish_document();
  const simdjson::dom::document& document() const { return view_; }
  size_t tape_length() const { return tape_.size(); }
  // The bytes of the document's strings (each stored once, see above).
  size_t string_bytes() const;

 private:
  struct Open {
    size_t start;
    uint64_t count;
    bool object;
  };
  struct Strings;  // the string buffer and its StringInterner
  static uint64_t word(char type, uint64_t payload) {
    return (static_cast<uint64_t>(static_cast<unsigned char>(type)) << 56) | payload;
  }
  // Arrays count their values; objects count their keys (key_at).
  void value_added() {
    if (!open_.empty() && !open_.back().object) ++open_.back().count;
  }
  void atom(char type) {
    value_added();
    tape_.push_back(word(type, 0));
  }
  void number(char type, uint64_t bits) {
    value_added();
    tape_.push_back(word(type, 0));
    tape_.push_back(bits);
  }
  void start_container(char type, bool object) {
    value_added();
    open_.push_back({tape_.size(), 0, object});
    tape_.push_back(word(type, 0));
  }
  void end_container(char type);
  void release_view();

  std::vector<uint64_t> tape_;
  std::vector<Open> open_;
  std::unique_ptr<Strings> strings_;
  simdjson::dom::document view_;  // borrows tape_ and the strings (finish_document)
};

// Advises a page buffer about to be filled for transparent huge pages (memory::advise_huge_pages)
// when it spans at least four of them: smaller ones keep 4 KB pages, so what stays resident of
// a small record set is not rounded up.
void advise_huge_pages(void* start, size_t bytes);

// The length in words of a document's tape (its root word's payload).
size_t tape_length(const simdjson::dom::document& document);

// An element as its position on its document's tape, and back: for the binary snapshot
// (record_set_binary.h), which stores records as tape indexes. simdjson keeps the element's
// tape reference private; its layout ({const document*, size_t}) is checked below.
size_t tape_index(simdjson::dom::element element);
simdjson::dom::element element_at(const simdjson::dom::document& document, size_t index);

}  // namespace extdata::extract
