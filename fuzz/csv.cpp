// libFuzzer target: CSV parsing with detected and fixed delimiters, then conversion to JSON,
// which must always be valid JSON.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extract/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char delimiter : {'\0', ';'}) {
    extdata::extract::CsvOptions options;
    options.delimiter = delimiter;
    options.header = size % 2 == 0;
    options.allow_ragged = size % 3 == 0;
    auto table = extdata::extract::parse_csv(text, options);
    if (!table.ok()) continue;
    const std::string json = extdata::extract::csv_table_to_json(*table);
    static simdjson::dom::parser parser;
    if (parser.parse(json).error() != simdjson::SUCCESS) __builtin_trap();
  }
  return 0;
}
