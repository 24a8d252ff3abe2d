#pragma once
// A reader of a byte stream that says where the next bytes go, so that whoever holds them (a
// store's pages, a driver's result) copies them once, straight into their final place
// (store::Store::read_snapshot_into; fields/table_image.h reads option tables this way).
//
//   receiver.begin(total);                  // how many bytes follow, before any of them
//   auto room = receiver.room();            // where the next bytes go (at least one byte)
//   copy(next bytes, room->data(), n);      // n <= room->size()
//   receiver.received(n);                   // ... repeated until `total` bytes were handed over
//
// Any error stops the read and is returned to the reader's caller.
#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.h"

namespace extdata {

class ByteReceiver {
 public:
  virtual ~ByteReceiver() = default;
  // Called once, first: the number of bytes that follow (a bound for what room() may ask).
  virtual Status begin(std::uint64_t total) = 0;
  // Where the next bytes go: a span of at least one byte.
  virtual Result<std::span<char>> room() = 0;
  // The first `n` bytes of the last room() now hold the next `n` bytes of the stream.
  virtual Status received(size_t n) = 0;
};

// Hands `bytes`, the next bytes of the stream, to `receiver` (one copy into its rooms).
Status feed(ByteReceiver& receiver, std::string_view bytes);

}  // namespace extdata
