#pragma once
// Rows of a result into a RecordSet: one JSON object per row, columns by name, SQL types
// mapped to JSON (numbers, booleans, null, strings, timestamps in RFC 3339, bytes in base64).
// Rows are written as typed values straight into the set's pages (extract::RecordSetBuilder,
// no JSON text and no parse), up to kRowsPerPage rows or kPageBytes per page (large pages: the
// pages are kept, and buffers of 8 MB and more are backed by huge pages, which spares most of
// the page faults of first touching them); the records are exactly those
// the same rows written as JSON text and parsed would give. More than max_rows rows is an
// error (sql.too_many_rows), never a silent cut.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "extract/record_set.h"
#include "extract/record_set_builder.h"

namespace extdata::sources::sql {

class RowWriter {
 public:
  static constexpr size_t kRowsPerPage = 4096;
  static constexpr size_t kPageBytes = size_t{32} << 20;

  // `rows_per_page`: kRowsPerPage, or fewer for tests.
  RowWriter(size_t max_rows, const std::vector<extract::ColumnSpec>* columns,
            size_t rows_per_page = kRowsPerPage);

  // The result's column names, before the first row.
  void set_columns(const std::vector<std::string>& names);

  Status begin_row();
  void null();
  void boolean(bool value);
  // A number as the database wrote it; written as a string when JSON cannot hold it exactly
  // (NaN, Infinity, more than 15 significant digits).
  void number(std::string_view text);
  void integer(long long value);
  void real(double value);
  void string(std::string_view text);  // invalid UTF-8 bytes become U+FFFD
  void bytes(std::string_view raw);    // base64
  // "2024-05-01 10:00:00+00" / "2024-05-01T10:00:00.5+02" / "2024-05-01 10:00:00" (treated as
  // UTC when `utc_if_naive`) → RFC 3339.
  void timestamp(std::string_view text, bool utc_if_naive);
  void raw_json(std::string_view json);  // a json/jsonb value, already valid JSON
  Status end_row();

  // Appends what is left and gives the records.
  Result<std::shared_ptr<const extract::RecordSet>> finish();

  size_t rows() const { return rows_; }
  size_t max_rows() const { return max_rows_; }

 private:
  void key();
  Status flush();
  // `text` with each invalid UTF-8 byte replaced by U+FFFD (in scratch_ when it has any).
  std::string_view valid_utf8(std::string_view text);
  void json_value(simdjson::dom::element value);
  // A value the JSON text of a row could not have held: the fetch fails at the row's end with
  // the error the parse of that text gave.
  void fail(Error error);

  size_t max_rows_;
  size_t rows_per_page_;
  std::vector<std::string> names_;  // per column, valid UTF-8
  size_t column_ = 0;
  size_t rows_ = 0;
  std::string scratch_;    // valid_utf8's output
  std::string timestamp_;  // timestamp()'s output
  Status failed_;
  std::shared_ptr<extract::RecordSet> set_ = std::make_shared<extract::RecordSet>();
  extract::RecordSetBuilder builder_;
};

}  // namespace extdata::sources::sql
