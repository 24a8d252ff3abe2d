#pragma once
// What `extdata source test`, `extdata fetch` and POST /api/v1/sources/{name}/test share:
// running a source with a trace, the test report (JSON and text) and record output
// (JSON array, CSV, aligned table).
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sources/source.h"

namespace extdata::sources {

struct TestReport {
  bool ok = false;
  FetchTrace trace;
  size_t records = 0;
  std::vector<std::string> columns;
  nlohmann::json sample =
      nlohmann::json::array();        // the first records, as records_to_json gives them
  std::vector<std::string> warnings;  // static warnings first, then the fetch's
  std::optional<Error> error;
  SyncReport sync;  // how this fetch synced (a test is always a full read)
};

inline constexpr size_t kSampleRecords = 5;

// Runs one fetch with a trace. Never fails: a failed fetch is a report with ok=false.
TestReport test_source(Source& source, const Variables& variables);

// {"ok", "steps":[{step,method,url,status,elapsed_ms,attempts}], "pages", "records", "sample",
//  "columns", "warnings", "sync": {mode, incremental, note}, "error": core/error_json.h's
//  to_json}
nlohmann::json to_json(const TestReport& report);
// The report for a terminal.
std::string render_text(const TestReport& report);

// One record as JSON: its columns as an object when the set has columns, else the record.
nlohmann::json record_to_json(extract::RecordRef record);
// All records (or the first `limit`) as a JSON array.
nlohmann::json records_to_json(const extract::RecordSet& records, size_t limit = SIZE_MAX);
// records_to_json's JSON text for one record, written directly (no JSON tree): for printing
// every record of a large fetch.
void append_record_json(std::string& out, extract::RecordRef record);
// Every record, streamed in 1 MB pieces: a JSON array with one record per line, or CSV
// (records_to_csv's text).
void write_records_json(std::ostream& out, const extract::RecordSet& records);
void write_records_csv(std::ostream& out, const extract::RecordSet& records);
// RFC 4180 CSV with a header row: the columns, or the union of top-level keys of the records.
std::string records_to_csv(const extract::RecordSet& records);
// An aligned text table (same columns as CSV); long cells are cut.
std::string records_to_table(const extract::RecordSet& records, size_t max_cell = 40);

}  // namespace extdata::sources
