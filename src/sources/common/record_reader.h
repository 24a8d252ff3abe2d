#pragma once
// How a document becomes records, for every kind that reads documents (rest responses, file
// sources): the declared or detected format (JSON, XML, CSV) and the source's `records`,
// `columns`, `namespaces` and `delimiter` keys, compiled once when the source is built.
//
//   EXTDATA_ASSIGN_OR_RETURN(auto reader, RecordReader::compile(spec));
//   auto set = std::make_shared<extract::RecordSet>();
//   EXTDATA_ASSIGN_OR_RETURN(BodyFormat read_as,
//                            reader.append(*set, std::move(body), content_type, "fetch"));
//
// Errors name the key (`records`, `columns.NAME`, `delimiter`) when compiling, and the step
// plus a preview of the document when a body does not parse as its format.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/record_set.h"
#include "extract/xml.h"

namespace extdata::sources {

enum class BodyFormat { json, xml, csv, automatic };

// "json" | "xml" | "csv"; anything else is automatic.
BodyFormat parse_body_format(const std::string& text);
const char* body_format_name(BodyFormat format);
// The format of a document whose source says `auto`: the content type first (empty for a
// file), then the first non-blank byte ({ or [ → JSON, < → XML), else CSV.
BodyFormat detect_body_format(std::string_view content_type, std::string_view body);

// "source.jsonpath" naming `key` when `text` is not a JSONPath.
Result<extract::JsonPath> compile_source_jsonpath(const std::string& text, const std::string& key);

// "source.format": the document is not valid `format`, with the inner error and a preview.
Error body_format_error(const std::string& step, BodyFormat format, std::string_view content_type,
                        std::string_view body, const Error& inner);

class RecordReader {
 public:
  // Reads `format`, `records`, `columns`, `namespaces` and `delimiter` from a source's
  // settings; `format` may be overridden (a rest source's last step declares its own).
  static Result<RecordReader> compile(const nlohmann::json& spec, BodyFormat format);

  BodyFormat format() const { return format_; }
  const std::vector<std::pair<std::string, std::string>>& namespaces() const {
    return xml_query_.namespaces;
  }

  // Appends the records of one document (its text moves into the set) and returns the format
  // it was read as. On error the set is unchanged.
  Result<BodyFormat> append(extract::RecordSet& set, std::string body,
                            std::string_view content_type, const std::string& step) const;

 private:
  BodyFormat format_ = BodyFormat::automatic;
  std::optional<extract::JsonPath> records_path_;  // JSON; default by the body's first byte
  extract::JsonPath whole_array_;                  // $[*]
  extract::JsonPath root_;                         // $
  std::vector<extract::ColumnSpec> json_columns_;
  std::vector<extract::ColumnSpec> named_columns_;  // CSV and XML rows: $['name']
  extract::XmlQuery xml_query_;
  char csv_delimiter_ = 0;
};

// Keeps the first `max_records` records of `set` (a new set when it is cut) and adds a warning
// saying so, once.
Status keep_first_records(std::shared_ptr<extract::RecordSet>& set, size_t max_records,
                          std::vector<std::string>& warnings);

}  // namespace extdata::sources
