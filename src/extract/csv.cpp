#include "extract/csv.h"

#include <unordered_set>

#include "extract/json_text.h"
#include "extract/utf8.h"

namespace extdata::extract {
namespace {

char detect_delimiter(std::string_view text) {
  size_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    if (c == ',') ++comma;
    if (c == ';') ++semicolon;
    if (c == '\t') ++tab;
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

Error csv_error(const char* code, size_t line, const std::string& what,
                const std::string& hint = {}) {
  Error error(code, "CSV error at line " + std::to_string(line) + ": " + what, hint);
  error.with("line", std::to_string(line));
  return error;
}

}  // namespace

Result<CsvTable> parse_csv(std::string_view text, const CsvOptions& options) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (const size_t bad = utf8::find_invalid(text); bad != std::string_view::npos) {
    size_t line = 1;
    for (size_t i = 0; i < bad; ++i) line += text[i] == '\n';
    return csv_error("csv.utf8", line, "invalid UTF-8 (byte offset " + std::to_string(bad) + ")",
                     "save the file as UTF-8");
  }
  CsvTable table;
  const char delimiter = options.delimiter ? options.delimiter : detect_delimiter(text);
  if (delimiter != ',' && delimiter != ';' && delimiter != '\t') {
    return Error("csv.options", "unsupported CSV delimiter", "use ',', ';' or tab");
  }
  table.delimiter = delimiter;

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t line = 1, row_line = 1, column = 1;
  size_t i = 0;
  const size_t n = text.size();
  bool row_has_content = false;

  const auto end_field = [&]() -> Status {
    if (row.size() >= options.max_fields_per_row) {
      return csv_error(
          "csv.limit", row_line,
          "more than " + std::to_string(options.max_fields_per_row) + " fields in one row");
    }
    row.push_back(std::move(field));
    field.clear();
    return ok_status();
  };
  const auto end_row = [&]() -> Status {
    EXTDATA_TRY(end_field());
    rows.push_back(std::move(row));
    table.row_lines.push_back(row_line);
    row.clear();
    return ok_status();
  };

  while (i < n) {
    // At the start of a field.
    if (text[i] == '"') {
      const size_t quote_line = line, quote_column = column;
      ++i;
      row_has_content = true;
      while (true) {
        if (i >= n) {
          return csv_error(
              "csv.syntax", quote_line,
              "unterminated quoted field (opened at column " + std::to_string(quote_column) + ")",
              "close the quote, or double quotes inside a field (\"\")");
        }
        const char c = text[i];
        if (c == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (c == '\n') ++line;
        field.push_back(c);
        ++i;
      }
      if (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
        return csv_error("csv.syntax", line, "unexpected character after a closing quote",
                         "a quoted field must be followed by the delimiter or the end of the line");
      }
    } else {
      while (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
        field.push_back(text[i]);
        ++i;
        row_has_content = true;
      }
    }
    if (i >= n) break;
    if (text[i] == delimiter) {
      ++i;
      ++column;
      row_has_content = true;
      EXTDATA_TRY(end_field());
      continue;
    }
    // End of line: CRLF, LF or a lone CR.
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
    ++i;
    if (row_has_content) {
      EXTDATA_TRY(end_row());
    }
    ++line;
    row_line = line;
    column = 1;
    row_has_content = false;
    field.clear();
  }
  if (row_has_content) EXTDATA_TRY(end_row());

  if (rows.empty()) {
    if (options.header)
      return csv_error("csv.header", 1, "the file is empty: expected a header row");
    return table;
  }
  size_t width = rows[0].size();
  size_t first_data = 0;
  if (options.header) {
    std::unordered_set<std::string> seen;
    for (size_t c = 0; c < rows[0].size(); ++c) {
      std::string name = rows[0][c];
      if (name.empty()) name = "column" + std::to_string(c + 1);
      if (!seen.insert(name).second) {
        return csv_error("csv.header", table.row_lines[0],
                         "duplicate column name '" + name + "' in the header",
                         "give every column a distinct name");
      }
      table.columns.push_back(std::move(name));
    }
    first_data = 1;
  } else {
    for (size_t c = 0; c < width; ++c) table.columns.push_back("column" + std::to_string(c + 1));
  }
  for (size_t r = first_data; r < rows.size(); ++r) {
    if (rows[r].size() != width && !options.allow_ragged) {
      return csv_error(
          "csv.ragged", table.row_lines[r],
          "the row has " + std::to_string(rows[r].size()) + " fields, expected " +
              std::to_string(width) +
              (options.header ? " (as in the header)" : " (as in the first row)"),
          "every row needs the same number of fields; quote fields that contain the delimiter");
    }
    if (rows[r].size() > width) rows[r].resize(width);
    table.rows.push_back(std::move(rows[r]));
  }
  table.row_lines.erase(table.row_lines.begin(),
                        table.row_lines.begin() + static_cast<std::ptrdiff_t>(first_data));
  return table;
}

std::string csv_table_to_json(const CsvTable& table) {
  std::string out = "[";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (r > 0) out += ',';
    out += '{';
    const auto& row = table.rows[r];
    for (size_t c = 0; c < row.size() && c < table.columns.size(); ++c) {
      if (c > 0) out += ',';
      append_json_string(out, table.columns[c]);
      out += ':';
      append_json_string(out, row[c]);
    }
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace extdata::extract
