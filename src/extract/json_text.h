#pragma once
// Writing JSON text (for records built from CSV / XML and for RecordSet snapshots).
#include <simdjson.h>

#include <string>
#include <string_view>

namespace extdata::extract {

// Appends s as a JSON string literal (quotes included). s must be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

// Appends the minified JSON text of a DOM element.
void append_json(std::string& out, simdjson::dom::element value);

// The text used when a value is substituted into a template or printed as a column:
// strings as they are, numbers in shortest round-trip form, true/false, null as "",
// arrays and objects as minified JSON.
std::string display_text(simdjson::dom::element value);

}  // namespace extdata::extract
