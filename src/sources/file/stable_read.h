#pragma once
// Reading a file that somebody may be rewriting, without ever using a half-written version.
//
//   auto read = read_stable([&] { return roots.open(path); }, max_bytes);
//   read->bytes, read->version
//
// The file is opened, its version (device, inode, size, modification and change times) taken,
// read to the end, and its version taken again. When the two differ, or fewer or more bytes
// were read than the size said, a writer was at work: the read is thrown away and done again
// from a fresh open (a replaced file is then the new one), up to `attempts` times, after which
// "file.changing" says so. A file modified less than `settle` ago may be between two writes of
// its writer (truncated, not yet written): the reader waits until it is `settle` old and checks
// the version once more. An empty file is refused ("file.empty"): it is never a valid document,
// and is what a file being rewritten in place looks like after its truncation. A file
// replaced by rename (the safe way to publish it) is never seen half-way.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"

namespace extdata::sources {

struct FileVersion {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t modified_ns = 0;
  std::int64_t changed_ns = 0;
  bool operator==(const FileVersion&) const = default;
};

struct StableRead {
  std::string bytes;
  FileVersion version;
};

// Opens the file: a descriptor the reader closes, or the reason it cannot be opened.
using FileOpener = std::function<Result<int>()>;

struct StableReadOptions {
  size_t max_bytes = 256u << 20;
  int attempts = 3;
  std::chrono::milliseconds settle{0};
  // The wall clock (file times are wall-clock times) and how to wait; tests replace both.
  std::function<std::int64_t()> now_ns;
  std::function<void(std::chrono::nanoseconds)> wait;
  // Called after each chunk read with the bytes read so far (tests play the writer here).
  std::function<void(size_t)> after_chunk;
};

// The version of the file `open` names, without reading it (the "has it changed" check).
Result<FileVersion> file_version(const FileOpener& open);

// Errors: those of `open`; "file.too_large" (over max_bytes, naming both sizes); "file.empty";
// "file.changing" (still changing after every attempt); "file.read" (an I/O error).
Result<StableRead> read_stable(const FileOpener& open, const StableReadOptions& options);

}  // namespace extdata::sources
