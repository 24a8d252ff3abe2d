// libFuzzer target: the first line is a records JSONPath, the rest is split at the first
// form feed into two JSON pages appended to one RecordSet (exercising the reused parse
// buffers), with three columns. Members whose name ends with "@o" are omitted (so inputs without
// such names take the plain path); the JSON snapshot must restore, and the binary snapshot must
// restore to the same records.
#include <cstddef>
#include <cstdint>
#include <string>

#include "extract/record_set.h"
#include "extract/record_set_binary.h"

using namespace extdata::extract;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string::npos) return 0;
  auto records = JsonPath::compile(std::string_view(input).substr(0, newline));
  if (!records.ok()) return 0;
  static const std::vector<ColumnSpec> columns = {{"a", JsonPath::compile("$.a").value()},
                                                  {"b0", JsonPath::compile("$.b[0]").value()},
                                                  {"deep", JsonPath::compile("$..c").value()}};
  const std::string rest = input.substr(newline + 1);
  const size_t split = rest.find('\f');
  RecordSet set;
  set.omit_members_ending_with("@o");
  (void)set.append_page(rest.substr(0, split), *records, columns);
  if (split != std::string::npos) (void)set.append_page(rest.substr(split + 1), *records, columns);
  const std::string snapshot = set.to_json();
  auto restored = RecordSet::from_json(snapshot);
  // Records nested close to the depth limit cannot be wrapped into a snapshot; anything else must
  // restore.
  if (!restored.ok() && restored.error().code != "extract.depth") __builtin_trap();
  (void)set.memory_bytes();
  BinarySnapshot::Reader reader;
  const auto written =
      BinarySnapshot::write(set, [&](std::string_view piece) { return reader.add(piece); });
  if (!written.ok()) __builtin_trap();
  auto binary = reader.finish();
  if (!binary.ok() || binary->to_json() != snapshot) __builtin_trap();
  return 0;
}
