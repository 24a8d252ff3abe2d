#pragma once
// The one place that knows simdjson's private DOM layout. A dom::document holds a "tape" of
// 64-bit words (type in the top 8 bits, payload in the low 56; containers store the index
// after their end word and a 24-bit element count; numbers take a second word) and a string
// buffer of length-prefixed strings (4-byte length, bytes, NUL) written in document order.
// These are public members of dom::document but not simdjson's documented API, so a new
// simdjson could change them and RecordSet would then corrupt records silently.
//
// Written for, and verified against, simdjson 3.0.1 (Debian 12). The build fails on any other
// version. Before accepting a new one, re-verify against its sources:
//   - internal/tape_type.h and dom/document.h: the type letters (' r { } [ ] " l u d t f n'),
//     the 56-bit payload, the tape[0] root word holding the tape length;
//   - generic/stage2/tape_builder.h / tape_writer.h: container words (index after the end word
//     in the low 32 bits, count in bits 32-55, saturated at 0xFFFFFF), two-word numbers;
//   - the string buffer format and that strings are written in document order (the "string
//     end" cross-check, TapeCompactor::strings_end vs strings_end_by_scan, tests this);
// then run tests/unit/extract (RecordSet*, SimdjsonTape*) and update the check below.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3 && simdjson::SIMDJSON_VERSION_MINOR == 0 &&
                  simdjson::SIMDJSON_VERSION_REVISION == 1,
              "extract/simdjson_tape.cpp rewrites simdjson's private tape and string buffer and "
              "was verified against simdjson 3.0.1 only: re-verify the layout listed in "
              "extract/simdjson_tape.h against this simdjson version, then update this check");

namespace extdata::extract {

// Copies parsed documents out of simdjson's worst-case sized buffers. Not thread-safe: one per
// thread (it keeps the string table it grows from page to page).
class TapeCompactor {
 public:
  // Copies the used part of `from` (a document simdjson has just parsed) into exactly sized
  // buffers of `to`, each distinct string stored once, leaving out every object member whose
  // name ends with `omitted_suffix` (none when empty). Spends `from`'s strings: parse into it
  // again before reading it. Returns the bytes now held by `to`.
  size_t compact(simdjson::dom::document& from, simdjson::dom::document& to,
                 std::string_view omitted_suffix);

  // The end of the last string in `document`'s string buffer, found by walking only the
  // containers on the way to it (what compact() uses), and by scanning the whole tape (the
  // slow reference). They agree exactly when simdjson writes strings in document order.
  static size_t strings_end(const simdjson::dom::document& document);
  static size_t strings_end_by_scan(const simdjson::dom::document& document);

 private:
  std::vector<std::uint64_t> string_slots_;  // the string table, reused from page to page
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

  // A document whose tape has room for `tape_words` words and whose string buffer has
  // `string_bytes` bytes, neither initialised; it keeps the memory it lies in alive.
  std::shared_ptr<simdjson::dom::document> document(size_t tape_words, size_t string_bytes);
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
// parsed again. Strings up to 128 bytes are stored once per document, as compact() does.
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
  // Closes the document (every container must be closed) and copies it into exactly sized
  // buffers, from `memory`, of a new document `to`. Returns the bytes `to` holds.
  size_t finish_document(PageMemory& memory, std::shared_ptr<simdjson::dom::document>& to);

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

  std::vector<uint64_t> tape_;
  std::vector<Open> open_;
  std::unique_ptr<Strings> strings_;
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
