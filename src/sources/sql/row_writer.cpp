#include "sources/sql/row_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "auth/oauth2/base64url.h"
#include "extract/utf8.h"

namespace extdata::sources::sql {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A JSON number that a double (or, without fraction and exponent, an int64) holds exactly.
bool exact_json_number(std::string_view t) {
  size_t i = 0, digits = 0;
  bool integral = true;
  if (i < t.size() && t[i] == '-') ++i;
  if (i >= t.size() || !is_digit(t[i])) return false;
  if (t[i] == '0' && i + 1 < t.size() && is_digit(t[i + 1])) return false;
  bool leading = true;  // leading zeros are not significant
  auto count = [&](char c) {
    if (c != '0') leading = false;
    if (!leading) ++digits;
  };
  while (i < t.size() && is_digit(t[i])) count(t[i++]);
  if (i < t.size() && t[i] == '.') {
    integral = false;
    if (++i >= t.size() || !is_digit(t[i])) return false;
    size_t trailing_zeros = 0;
    while (i < t.size() && is_digit(t[i])) {
      trailing_zeros = t[i] == '0' ? trailing_zeros + 1 : 0;
      count(t[i++]);
    }
    digits -= std::min(digits, trailing_zeros);
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    integral = false;
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= t.size() || !is_digit(t[i])) return false;
    size_t exp_digits = 0;
    while (i < t.size() && is_digit(t[i])) ++i, ++exp_digits;
    if (exp_digits > 3) return false;
  }
  return i == t.size() && digits <= (integral ? 18u : 15u);
}

// The JSON parser of a row's text, for values whose type only a parse settles: json columns,
// and numbers the quick conversions below do not take. One per thread, reused.
simdjson::dom::parser& value_parser() {
  // A json column sits at depth 2 of its page (the page's array, the row's object).
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // Grows on demand with the same depth; if this fails, parse() allocates (at the default).
    if (p.allocate(4096, extract::RecordSet::kMaxDepth - 2) != simdjson::SUCCESS) return p;
    return p;
  }();
  return parser;
}

// The error parsing a row's JSON text would have given for a value like this.
Error parse_error(simdjson::error_code error) {
  if (error == simdjson::DEPTH_ERROR)
    return Error("extract.depth",
                 "the JSON document is nested deeper than " +
                     std::to_string(extract::RecordSet::kMaxDepth) + " levels",
                 "such documents are not supported");
  return Error("extract.json",
               std::string("the response is not valid JSON: ") + simdjson::error_message(error),
               "check that the source returns JSON (or configure the XML / CSV format)");
}

}  // namespace

RowWriter::RowWriter(size_t max_rows, const std::vector<extract::ColumnSpec>* columns,
                     size_t rows_per_page)
    : max_rows_(max_rows), rows_per_page_(rows_per_page), builder_(*set_, columns) {}

void RowWriter::set_columns(const std::vector<std::string>& names) {
  names_.clear();
  for (const auto& n : names) names_.emplace_back(valid_utf8(n));
}

std::string_view RowWriter::valid_utf8(std::string_view text) {
  if (extract::utf8::find_invalid(text) == std::string_view::npos) return text;
  scratch_.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    if (extract::utf8::decode(text, pos, cp)) {
      extract::utf8::append(scratch_, cp);
    } else {
      extract::utf8::append(scratch_, 0xFFFD);
      ++pos;
    }
  }
  return scratch_;
}

void RowWriter::fail(Error error) {
  if (failed_.ok()) failed_ = std::move(error);
}

Status RowWriter::begin_row() {
  if (rows_ >= max_rows_)
    return Error(
               "sql.too_many_rows",
               "the query returned more than max_records (" + std::to_string(max_rows_) + ") rows",
               "narrow the query (WHERE, LIMIT) or raise max_records; rows are never cut "
               "silently")
        .with("max_records", std::to_string(max_rows_));
  builder_.begin_record();
  column_ = 0;
  return ok_status();
}

// Columns past the result's names (none were set) are named "?".
void RowWriter::key() {
  builder_.member(column_, column_ < names_.size() ? std::string_view(names_[column_]) : "?");
  ++column_;
}

void RowWriter::null() {
  key();
  builder_.values().null();
}

void RowWriter::boolean(bool value) {
  key();
  builder_.values().boolean(value);
}

// What the JSON parser makes of the number `text` (as exact_json_number accepts it): an int64
// without fraction and exponent (at most 18 digits, "-0" is 0), else the nearest double —
// from_chars rounds exactly as simdjson does. A value out of a double's range (1e-400, 1e400)
// is settled by simdjson itself, as it was when rows were JSON text.
void RowWriter::number(std::string_view text) {
  if (!exact_json_number(text)) return string(text);
  key();
  const char* end = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string_view::npos) {
    int64_t value = 0;
    std::from_chars(text.data(), end, value);  // at most 18 digits: always fits
    return builder_.values().int64(value);
  }
  double value = 0;
  const auto converted = std::from_chars(text.data(), end, value);
  if (converted.ec == std::errc() && converted.ptr == end) return builder_.values().real(value);
  simdjson::dom::element parsed;
  if (const auto error = value_parser().parse(text.data(), text.size()).get(parsed)) {
    builder_.values().null();
    return fail(parse_error(error));
  }
  json_value(parsed);
}

void RowWriter::integer(long long value) {
  key();
  builder_.values().int64(value);
}

// As its shortest round-trip text would be parsed: a double, or an integer when that text has
// neither fraction nor exponent (100.0 and -0.0 are written "100" and "-0").
void RowWriter::real(double value) {
  if (!std::isfinite(value))
    return string(std::isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
  key();
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  const std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
  if (text.find_first_of(".eE") != std::string_view::npos) return builder_.values().real(value);
  int64_t integral = 0;
  if (std::from_chars(buf, r.ptr, integral).ec == std::errc())
    return builder_.values().int64(integral);
  uint64_t positive = 0;
  if (std::from_chars(buf, r.ptr, positive).ec == std::errc())
    return builder_.values().uint64(positive);
  builder_.values().null();
  fail(parse_error(simdjson::NUMBER_ERROR));  // more than 20 digits: no JSON parser took it
}

void RowWriter::string(std::string_view text) {
  key();
  builder_.values().string(valid_utf8(text));
}

void RowWriter::bytes(std::string_view raw) {
  key();
  builder_.values().string(auth::base64_encode(raw));
}

void RowWriter::timestamp(std::string_view t, bool utc_if_naive) {
  if (t.size() < 19 || (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':')
    return string(t);
  size_t end = 19;
  if (end < t.size() && t[end] == '.') {
    ++end;
    while (end < t.size() && is_digit(t[end])) ++end;
  }
  const std::string_view rest = t.substr(end);
  std::string_view offset;
  if (rest.empty()) {
    offset = utc_if_naive ? "Z" : "";
  } else if (rest.size() == 3 && (rest[0] == '+' || rest[0] == '-') && is_digit(rest[1]) &&
             is_digit(rest[2])) {
    offset = rest.substr(1) == "00" ? std::string_view("Z") : rest;  // "+05" gets ":00" below
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             is_digit(rest[1]) && is_digit(rest[2]) && is_digit(rest[4]) && is_digit(rest[5])) {
    offset = rest.substr(1) == "00:00" ? std::string_view("Z") : rest;
  } else {
    return string(t);  // "infinity", BC dates, historical offsets with seconds
  }
  std::string& out = timestamp_;  // no allocation per cell once it has grown
  out.assign(t.substr(0, end));
  out[10] = 'T';
  out += offset;
  if (offset.size() == 3) out += ":00";
  string(out);
}

void RowWriter::raw_json(std::string_view json) {
  key();
  simdjson::dom::element parsed;
  if (const auto error = value_parser().parse(json.data(), json.size()).get(parsed)) {
    builder_.values().null();
    return fail(parse_error(error));
  }
  json_value(parsed);
}

// A parsed json value copied into the row, as the row's text would have held it.
void RowWriter::json_value(simdjson::dom::element value) {
  extract::TapeWriter& out = builder_.values();
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: {
      out.start_array();
      const simdjson::dom::array items = value.get_array().value_unsafe();
      for (simdjson::dom::element item : items) json_value(item);
      return out.end_array();
    }
    case simdjson::dom::element_type::OBJECT: {
      out.start_object();
      const simdjson::dom::object members = value.get_object().value_unsafe();
      for (auto field : members) {
        out.key(field.key);
        json_value(field.value);
      }
      return out.end_object();
    }
    case simdjson::dom::element_type::INT64:
      return out.int64(value.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return out.uint64(value.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE:
      return out.real(value.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING:
      return out.string(value.get_string().value_unsafe());
    case simdjson::dom::element_type::BOOL:
      return out.boolean(value.get_bool().value_unsafe());
    case simdjson::dom::element_type::NULL_VALUE:
      return out.null();
  }
}

Status RowWriter::end_row() {
  builder_.end_record();
  ++rows_;
  if (!failed_.ok()) return failed_;
  if (builder_.page_records() >= rows_per_page_ || builder_.page_bytes() >= kPageBytes)
    return flush();
  return ok_status();
}

Status RowWriter::flush() {
  if (!failed_.ok()) return failed_;
  return builder_.finish_page();
}

Result<std::shared_ptr<const extract::RecordSet>> RowWriter::finish() {
  EXTDATA_TRY(flush());
  return std::shared_ptr<const extract::RecordSet>(set_);
}

}  // namespace extdata::sources::sql
