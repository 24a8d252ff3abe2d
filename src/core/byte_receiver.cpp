#include "core/byte_receiver.h"

#include <algorithm>
#include <cstring>

namespace extdata {

Status feed(ByteReceiver& receiver, std::string_view bytes) {
  while (!bytes.empty()) {
    EXTDATA_ASSIGN_OR_RETURN(const std::span<char> room, receiver.room());
    const size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    EXTDATA_TRY(receiver.received(n));
    bytes.remove_prefix(n);
  }
  return ok_status();
}

}  // namespace extdata
