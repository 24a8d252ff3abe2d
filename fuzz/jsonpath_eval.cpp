// libFuzzer target: the first line is a JSONPath, the rest a JSON document. Evaluation of any
// valid path over any document must terminate without a crash, and values and normalized paths
// must agree in number.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "extract/jsonpath/jsonpath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string::npos) return 0;
  auto path = extdata::extract::JsonPath::compile(std::string_view(input).substr(0, newline));
  if (!path.ok()) return 0;
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(input.substr(newline + 1)).get(root) != simdjson::SUCCESS) return 0;
  const auto values = path->select(root);
  const auto paths = path->select_paths(root);
  // Over the node limit is an error, not a crash; paths cost more, so only they may fail alone.
  if (!values.ok() && paths.ok()) __builtin_trap();
  if (values.ok() && paths.ok() && values->size() != paths->size()) __builtin_trap();
  (void)path->first(root);
  return 0;
}
