#include "core/error.h"

namespace extdata {

std::string Error::to_string() const {
  std::string out = message.empty() ? code : message;
  if (!hint.empty()) out += " — " + hint;
  return out;
}

}  // namespace extdata
