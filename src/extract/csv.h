#pragma once
// CSV (RFC 4180) reading: quoted fields, "" escapes, embedded newlines, CRLF or LF line ends,
// a UTF-8 byte order mark, an optional header row, and ',' ';' or tab delimiters (configured
// or detected from the first line).
//
// Errors (code "csv.syntax", "csv.ragged", "csv.utf8", "csv.header", "csv.limit") name the
// line (1-based, physical lines) and, where it helps, the column.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace extdata::extract {

struct CsvOptions {
  char delimiter = 0;  // ',', ';' or '\t'; 0 = detect from the first line
  bool header = true;  // the first row names the columns
  // Rows whose field count differs from the first row are an error unless this is set, in
  // which case missing fields are absent and extra fields are dropped.
  bool allow_ragged = false;
  size_t max_fields_per_row = 10000;
};

struct CsvTable {
  std::vector<std::string> columns;  // header names, or "column1".."columnN" without a header
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> row_lines;  // the line each row starts on
  char delimiter = ',';
};

Result<CsvTable> parse_csv(std::string_view text, const CsvOptions& options = {});

// The table as a JSON array with one object per row ({"column": "value", ...}), ready for
// RecordSet::append_page with records "$[*]".
std::string csv_table_to_json(const CsvTable& table);

}  // namespace extdata::extract
