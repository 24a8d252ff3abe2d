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
#include <string_view>
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

// The length in words of a document's tape (its root word's payload).
size_t tape_length(const simdjson::dom::document& document);

// An element as its position on its document's tape, and back: for the binary snapshot
// (record_set_binary.h), which stores records as tape indexes. simdjson keeps the element's
// tape reference private; its layout ({const document*, size_t}) is checked below.
size_t tape_index(simdjson::dom::element element);
simdjson::dom::element element_at(const simdjson::dom::document& document, size_t index);

}  // namespace extdata::extract
