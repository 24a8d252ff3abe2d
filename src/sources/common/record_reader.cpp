#include "sources/common/record_reader.h"

#include <algorithm>
#include <cctype>

#include "extract/csv.h"
#include "extract/json_text.h"
#include "sources/common/upstream.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

constexpr size_t kErrorPreviewBytes = 300;

// "fields.Title" → $['fields']['Title']; expressions starting with '$' are JSONPath already.
std::string dotted_to_jsonpath(const std::string& expr, bool split_dots) {
  if (!expr.empty() && expr.front() == '$') return expr;
  std::string path = "$";
  size_t i = 0;
  while (i <= expr.size()) {
    size_t dot = split_dots ? expr.find('.', i) : std::string::npos;
    if (dot == std::string::npos) dot = expr.size();
    path += "[";
    extract::append_json_string(path, expr.substr(i, dot - i));
    path += "]";
    i = dot + 1;
  }
  return path;
}

Result<char> parse_delimiter(const std::string& d) {
  if (d == "," || d == ";") return d[0];
  if (d == "tab" || d == "\t" || d == "\\t") return '\t';
  return Error("source.delimiter", "delimiter: '" + d + "' is not a CSV delimiter",
               "use , ; or tab")
      .with("key", "delimiter");
}

}  // namespace

BodyFormat parse_body_format(const std::string& text) {
  if (text == "json") return BodyFormat::json;
  if (text == "xml") return BodyFormat::xml;
  if (text == "csv") return BodyFormat::csv;
  return BodyFormat::automatic;
}

const char* body_format_name(BodyFormat format) {
  switch (format) {
    case BodyFormat::json:
      return "JSON";
    case BodyFormat::xml:
      return "XML";
    case BodyFormat::csv:
      return "CSV";
    case BodyFormat::automatic:
      break;
  }
  return "auto";
}

BodyFormat detect_body_format(std::string_view content_type, std::string_view body) {
  std::string type(content_type);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.find("json") != std::string::npos) return BodyFormat::json;
  if (type.find("xml") != std::string::npos) return BodyFormat::xml;
  if (type.find("csv") != std::string::npos) return BodyFormat::csv;
  for (char c : body) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '{' || c == '[') return BodyFormat::json;
    if (c == '<') return BodyFormat::xml;
    break;
  }
  return BodyFormat::csv;
}

Result<extract::JsonPath> compile_source_jsonpath(const std::string& text, const std::string& key) {
  auto path = extract::JsonPath::compile(text);
  if (!path.ok()) {
    return Error("source.jsonpath", key + ": " + path.error().message, path.error().hint)
        .with("key", key);
  }
  return std::move(path).value();
}

Error body_format_error(const std::string& step, BodyFormat format, std::string_view content_type,
                        std::string_view body, const Error& inner) {
  Error e("source.format",
          step + ": the response is not valid " + std::string(body_format_name(format)) + ": " +
              inner.message,
          "the upstream answered with something else than the declared format (Content-Type: " +
              std::string(content_type.empty() ? "none" : content_type) +
              "); check format and url");
  e.details = inner.details;
  e.with("inner_code", inner.code).with("body", body_preview(body, kErrorPreviewBytes));
  return e;
}

Result<RecordReader> RecordReader::compile(const json& spec, BodyFormat format) {
  RecordReader reader;
  reader.format_ = format;
  EXTDATA_ASSIGN_OR_RETURN(reader.whole_array_, compile_source_jsonpath("$[*]", "records"));
  EXTDATA_ASSIGN_OR_RETURN(reader.root_, compile_source_jsonpath("$", "records"));

  const std::string records = spec.value("records", std::string());
  if (!records.empty() && format != BodyFormat::xml && format != BodyFormat::csv) {
    if (records.front() == '$') {
      EXTDATA_ASSIGN_OR_RETURN(reader.records_path_, compile_source_jsonpath(records, "records"));
    } else if (format == BodyFormat::json) {
      return Error("source.jsonpath", "records: '" + records + "' is not a JSONPath",
                   "JSONPaths start with $, e.g. $.value[*]")
          .with("key", "records");
    }
  }
  if (!records.empty() && format != BodyFormat::json && format != BodyFormat::csv &&
      records.front() != '$') {
    reader.xml_query_.records = records;
  }
  if (format == BodyFormat::xml) {
    if (auto s = extract::validate_xpath(reader.xml_query_.records); !s.ok())
      return Error("source.xpath", "records: " + s.error().message).with("key", "records");
  }
  if (spec.contains("namespaces")) {
    for (const auto& [prefix, uri] : spec["namespaces"].items())
      reader.xml_query_.namespaces.emplace_back(prefix, uri.get<std::string>());
  }
  if (spec.contains("columns")) {
    for (const auto& [name, expr_json] : spec["columns"].items()) {
      const std::string expr = expr_json.get<std::string>();
      const std::string key = "columns." + name;
      if (format != BodyFormat::xml) {
        const bool csv = format == BodyFormat::csv;
        EXTDATA_ASSIGN_OR_RETURN(auto path,
                                 compile_source_jsonpath(dotted_to_jsonpath(expr, !csv), key));
        reader.json_columns_.push_back({name, path});
      } else if (auto s = extract::validate_xpath(expr); !s.ok()) {
        return Error("source.xpath", key + ": " + s.error().message).with("key", key);
      }
      reader.xml_query_.columns.emplace_back(name, expr);
      EXTDATA_ASSIGN_OR_RETURN(auto named,
                               compile_source_jsonpath(dotted_to_jsonpath(name, false), key));
      reader.named_columns_.push_back({name, named});
    }
  }
  if (spec.contains("delimiter")) {
    EXTDATA_ASSIGN_OR_RETURN(reader.csv_delimiter_,
                             parse_delimiter(spec["delimiter"].get<std::string>()));
  }
  return reader;
}

Result<BodyFormat> RecordReader::append(extract::RecordSet& set, std::string body,
                                        std::string_view content_type,
                                        const std::string& step) const {
  const BodyFormat format =
      format_ == BodyFormat::automatic ? detect_body_format(content_type, body) : format_;
  if (format == BodyFormat::json) {
    const extract::JsonPath* records = records_path_ ? &*records_path_ : nullptr;
    if (!records) {
      const size_t first = body.find_first_not_of(" \t\r\n");
      records = first != std::string::npos && body[first] == '[' ? &whole_array_ : &root_;
    }
    // The body moves into the set (no copy of a page); its start is kept for an error's preview.
    std::string head = body.substr(0, kErrorPreviewBytes + 1);  // +1: marks a cut
    auto s = set.append_page(std::move(body), *records, json_columns_);
    if (!s.ok()) {
      if (s.error().code == "extract.columns") return s.error();
      return body_format_error(step, format, content_type, head, s.error());
    }
    return format;
  }
  if (format == BodyFormat::xml) {
    auto converted = extract::xml_records_to_json(body, xml_query_);
    if (!converted.ok())
      return body_format_error(step, format, content_type, body, converted.error());
    EXTDATA_TRY(set.append_page(
        std::move(converted).value(), whole_array_,
        xml_query_.columns.empty() ? std::vector<extract::ColumnSpec>{} : named_columns_));
    return format;
  }
  extract::CsvOptions options;
  options.delimiter = csv_delimiter_;
  auto table = extract::parse_csv(body, options);
  if (!table.ok()) return body_format_error(step, format, content_type, body, table.error());
  EXTDATA_TRY(set.append_page(extract::csv_table_to_json(*table), whole_array_, json_columns_));
  return format;
}

Status keep_first_records(std::shared_ptr<extract::RecordSet>& set, size_t max_records,
                          std::vector<std::string>& warnings) {
  if (set->size() <= max_records) return ok_status();
  // The first max_records records, sharing the parsed pages (no record copied or parsed again).
  std::vector<extract::RecordSet::Pick> picks(max_records);
  for (size_t i = 0; i < max_records; ++i) picks[i] = {static_cast<std::uint32_t>(i), false};
  auto cut = extract::RecordSet::combine(*set, extract::RecordSet(), picks);
  if (!cut.ok()) return cut.error();
  if (std::none_of(warnings.begin(), warnings.end(), [](const std::string& w) {
        return w.find("max_records") != std::string::npos;
      })) {
    warnings.push_back("records cut at max_records (" + std::to_string(max_records) + ")");
  }
  set = std::make_shared<extract::RecordSet>(std::move(cut).value());
  return ok_status();
}

}  // namespace extdata::sources
