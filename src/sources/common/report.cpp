#include "sources/common/report.h"

#include <cstdio>
#include <set>
#include <sstream>

#include "core/error_json.h"
#include "core/redact.h"
#include "extract/json_text.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

json element_to_json(simdjson::dom::element e) {
  std::string text;
  extract::append_json(text, e);
  return json::parse(text, nullptr, false);
}

std::vector<std::string> output_columns(const extract::RecordSet& records) {
  if (!records.column_names().empty()) return records.column_names();
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = records[i].json();
    simdjson::dom::object obj;
    if (record.root().get(obj) != simdjson::SUCCESS) continue;
    for (auto field : obj) {
      std::string key(field.key);
      if (seen.insert(key).second) names.push_back(key);
    }
  }
  if (names.empty() && !records.empty()) names.push_back("value");
  return names;
}

// The display text of a cell (a column or a top-level key of the record); nullopt when absent.
std::optional<std::string> cell(extract::RecordRef record, const std::string& column) {
  if (!record.set().column_names().empty()) {
    auto v = record.column(column);
    if (!v) return std::nullopt;
    return extract::display_text(v->root());
  }
  const auto json = record.json();
  simdjson::dom::object obj;
  if (json.root().get(obj) == simdjson::SUCCESS) {
    simdjson::dom::element v;
    if (obj.at_key(column).get(v) != simdjson::SUCCESS) return std::nullopt;
    return extract::display_text(v);
  }
  return extract::display_text(json.root());
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string cut(const std::string& s, size_t max) {
  if (display_width(s) <= max) return s;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > max - 1) break;
    out += s[i];
  }
  return out + "…";
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

}  // namespace

TestReport test_source(Source& source, const Variables& variables) {
  TestReport report;
  report.warnings = source.static_warnings();
  FetchRequest request;
  request.variables = variables;
  request.sync = &report.sync;
  auto result = source.fetch(request, &report.trace);
  for (const auto& w : report.trace.warnings) report.warnings.push_back(w);
  if (!result.ok()) {
    report.error = result.error();
    return report;
  }
  const auto& records = **result;
  report.ok = true;
  report.records = records.size();
  report.columns = output_columns(records);
  report.sample = records_to_json(records, kSampleRecords);
  return report;
}

json to_json(const TestReport& report) {
  json steps = json::array();
  for (const auto& s : report.trace.steps) {
    steps.push_back({{"step", s.step},
                     {"method", s.method},
                     {"url", s.url},
                     {"status", s.status},
                     {"elapsed_ms", s.elapsed_ms},
                     {"attempts", s.attempts},
                     // The UI's raw-response viewer (already redacted and trimmed).
                     {"response_preview", s.response_preview}});
  }
  json j = {{"ok", report.ok},
            {"steps", steps},
            {"pages", report.trace.pages},
            {"records", report.records},
            {"sample", report.sample},
            {"columns", report.columns},
            {"warnings", report.warnings}};
  j["sync"] = {{"mode", report.sync.mode}, {"incremental", report.sync.incremental}};
  if (!report.sync.note.empty()) j["sync"]["note"] = report.sync.note;
  if (report.error) j["error"] = extdata::to_json(*report.error);
  return j;
}

std::string render_text(const TestReport& report) {
  std::string out;
  for (const auto& s : report.trace.steps) {
    // A step without an HTTP status (a failed request, a file read, an SQL step) shows the
    // error's code when it is the failed one (the last), else "ok", not "0".
    const bool failed = report.error && &s == &report.trace.steps.back();
    const std::string status = s.status ? std::to_string(s.status)
                               : failed ? report.error->code
                                        : std::string("ok");
    char line[160];
    std::snprintf(line, sizeof line, "  %-4s %3s  %8.1f ms", s.method.c_str(), status.c_str(),
                  s.elapsed_ms);
    out += s.step + "\n" + line + "  " + s.url;
    if (s.attempts > 1) out += "  (" + std::to_string(s.attempts) + " attempts)";
    out += "\n";
  }
  if (report.ok) {
    out += "pages: " + std::to_string(report.trace.pages) +
           ", records: " + std::to_string(report.records) + "\n";
    out += "sync: " + report.sync.mode +
           (report.sync.mode != "full" ? " (refreshes read only the changes)" : "") + "\n";
    if (!report.columns.empty()) {
      out += "columns:";
      for (const auto& c : report.columns) out += " " + c;
      out += "\n";
    }
    if (!report.sample.empty()) {
      out += "first records:\n";
      for (const auto& r : report.sample) out += "  " + cut(r.dump(), 200) + "\n";
    }
  }
  for (const auto& w : report.warnings) out += "warning: " + w + "\n";
  if (report.error) {
    out += "error: " + redact(report.error->message) + "\n";
    if (!report.error->hint.empty()) out += "hint: " + redact(report.error->hint) + "\n";
    if (auto it = report.error->details.find("body"); it != report.error->details.end()) {
      out += "upstream body: " + one_line(redact(it->second)) + "\n";
    }
  }
  out += report.ok ? "OK\n" : "FAILED\n";
  return out;
}

json record_to_json(extract::RecordRef record) {
  const auto& names = record.set().column_names();
  if (names.empty()) return element_to_json(record.json().root());
  json obj = json::object();
  for (size_t c = 0; c < names.size(); ++c) {
    auto v = record.column(c);
    obj[names[c]] = v ? element_to_json(v->root()) : json();
  }
  return obj;
}

void append_record_json(std::string& out, extract::RecordRef record) {
  const auto& names = record.set().column_names();
  if (names.empty()) return extract::append_json(out, record.json().root());
  out += '{';
  for (size_t c = 0; c < names.size(); ++c) {
    if (c) out += ',';
    extract::append_json_string(out, names[c]);
    out += ':';
    if (auto v = record.column(c)) {
      extract::append_json(out, v->root());
    } else {
      out += "null";
    }
  }
  out += '}';
}

json records_to_json(const extract::RecordSet& records, size_t limit) {
  json out = json::array();
  for (size_t i = 0; i < records.size() && i < limit; ++i)
    out.push_back(record_to_json(records[i]));
  return out;
}

namespace {
// Writes `chunk` out once it holds 1 MB: every record of a large fetch, without one string
// of them all.
void flush_if_full(std::ostream& out, std::string& chunk) {
  if (chunk.size() < (1u << 20)) return;
  out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.clear();
}
}  // namespace

void write_records_csv(std::ostream& out, const extract::RecordSet& records) {
  const auto columns = output_columns(records);
  std::string chunk;
  for (size_t c = 0; c < columns.size(); ++c) chunk += (c ? "," : "") + csv_field(columns[c]);
  chunk += "\r\n";
  for (size_t i = 0; i < records.size(); ++i) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) chunk += ',';
      chunk += csv_field(cell(records[i], columns[c]).value_or(""));
    }
    chunk += "\r\n";
    flush_if_full(out, chunk);
  }
  out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

void write_records_json(std::ostream& out, const extract::RecordSet& records) {
  std::string chunk = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    chunk += i ? ",\n" : "\n";
    append_record_json(chunk, records[i]);
    flush_if_full(out, chunk);
  }
  chunk += records.size() ? "\n]\n" : "]\n";
  out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

std::string records_to_csv(const extract::RecordSet& records) {
  std::ostringstream out;
  write_records_csv(out, records);
  return std::move(out).str();
}

std::string records_to_table(const extract::RecordSet& records, size_t max_cell) {
  const auto columns = output_columns(records);
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths;
  for (const auto& c : columns) widths.push_back(display_width(cut(c, max_cell)));
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) {
      row.push_back(cut(one_line(cell(records[i], columns[c]).value_or("")), max_cell));
      widths[c] = std::max(widths[c], display_width(row.back()));
    }
    rows.push_back(std::move(row));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(widths[c] - display_width(cells[c]) + 2, ' ');
    }
    return out + "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(cut(c, max_cell));
  std::string out = line(header);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  out += line(rule);
  for (const auto& r : rows) out += line(r);
  return out;
}

}  // namespace extdata::sources
