// Extraction benchmark: records `$.value[*]` plus five columns per record from a Graph-shaped
// list-items document, against simdjson's parse of the same text.
//
// usage: bench_extraction FILE [ROUNDS=1]
// Prints one JSON line per round:
//   {"bytes":..,"records":..,"values":..,"parse_ms":..,"extract_ms":..,"select_ms":..}
// parse_ms   simdjson DOM parse only (reused parser, the fastest simdjson can do)
// extract_ms text in memory -> RecordSet with records and 5 columns (parse included)
// select_ms  JSONPath records + columns over an already parsed document
// encode_ms  the parsed document encoded into a shape page (ShapeEncoder, the step of
//            extraction that keeps the page), warm tables and fresh page memory as in extraction
// *_cpu_ms   the same intervals in CPU time of this thread (user + system, page faults
//            included): on a shared machine they move far less with the load than wall time
// File reading is not timed. Run through bench/run-extraction.sh for medians and ratios.
#include <simdjson.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "extract/record_set.h"
#include "extract/simdjson_tape.h"

using namespace extdata::extract;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

std::vector<ColumnSpec> columns() {
  std::vector<ColumnSpec> specs;
  for (const auto& [name, path] :
       std::vector<std::pair<std::string, std::string>>{{"id", "$.id"},
                                                        {"title", "$.fields.Title"},
                                                        {"country", "$.fields.Country"},
                                                        {"city", "$.fields.City"},
                                                        {"revenue", "$.fields.Revenue"}}) {
    specs.push_back({name, JsonPath::compile(path).value()});
  }
  return specs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " FILE [ROUNDS]\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 1;
  const auto records = JsonPath::compile("$.value[*]").value();
  const auto specs = columns();

  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  (void)parser.parse(padded);  // warm the parser's buffers

  for (int round = 0; round < rounds + 1; ++round) {  // round 0 warms up and is not printed
    auto start = Clock::now();
    double cpu_start = thread_cpu_ms();
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
      std::cerr << "parse failed\n";
      return 1;
    }
    const double parse_ms = ms_since(start);
    const double parse_cpu_ms = thread_cpu_ms() - cpu_start;

    start = Clock::now();
    std::vector<simdjson::dom::element> items;
    if (!records.select(root, items).ok()) std::abort();
    size_t values_found = 0;
    for (const auto& item : items) {
      for (const auto& column : specs) values_found += column.path.first(item).has_value();
    }
    const double select_ms = ms_since(start);

    static ShapeEncoder encoder;
    std::vector<uint64_t> no_refs;
    ShapePage encoded;
    start = Clock::now();
    if (!encoder
             .encode(parser.doc.tape.get(), tape_length(parser.doc), parser.doc.string_buf.get(),
                     "", no_refs, nullptr, nullptr, encoded)
             .ok())
      std::abort();
    const double encode_ms = ms_since(start);
    encoded = ShapePage();

    std::string copy = text;
    copy.reserve(copy.size() + simdjson::SIMDJSON_PADDING);
    start = Clock::now();
    cpu_start = thread_cpu_ms();
    RecordSet set;
    auto status = set.append_page(std::move(copy), records, specs);
    const double extract_ms = ms_since(start);
    const double extract_cpu_ms = thread_cpu_ms() - cpu_start;
    if (!status.ok()) {
      std::cerr << status.error().message << "\n";
      return 1;
    }
    size_t values = 0;
    for (size_t r = 0; r < set.size(); ++r) {
      for (size_t c = 0; c < specs.size(); ++c) values += set[r].has_column(c);
    }
    if (values != values_found) {
      std::cerr << "mismatch between RecordSet and direct selection\n";
      return 1;
    }
    if (round > 0) {
      std::printf(
          "{\"bytes\":%zu,\"records\":%zu,\"values\":%zu,\"parse_ms\":%.2f,\"extract_ms\":%.2f,"
          "\"select_ms\":%.2f,\"encode_ms\":%.2f,\"parse_cpu_ms\":%.2f,\"extract_cpu_ms\":%.2f,"
          "\"recordset_bytes\":%zu}\n",
          text.size(), set.size(), values, parse_ms, extract_ms, select_ms, encode_ms, parse_cpu_ms,
          extract_cpu_ms, set.memory_bytes());
    }
  }
  return 0;
}
