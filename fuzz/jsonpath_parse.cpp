// libFuzzer target: JSONPath compilation must return a value or an Error, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extract/jsonpath/jsonpath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = extdata::extract::JsonPath::compile(text);
  if (!path.ok() && path.error().message.empty()) __builtin_trap();
  return 0;
}
