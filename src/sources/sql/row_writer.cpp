#include "sources/sql/row_writer.h"

#include <charconv>
#include <cmath>

#include "auth/oauth2/base64url.h"
#include "extract/json_text.h"
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

// "+00" → "Z", "+05" → "+05:00", "+05:30" → as is; nullopt for what is not an offset.
std::optional<std::string> rfc3339_offset(std::string_view o) {
  if (o.empty() || (o[0] != '+' && o[0] != '-')) return std::nullopt;
  if (o.size() == 3 && is_digit(o[1]) && is_digit(o[2]))
    return o.substr(1) == "00" ? std::string("Z") : std::string(o) + ":00";
  if (o.size() == 6 && o[3] == ':' && is_digit(o[1]) && is_digit(o[2]) && is_digit(o[4]) &&
      is_digit(o[5]))
    return o.substr(1) == "00:00" ? std::string("Z") : std::string(o);
  return std::nullopt;
}

}  // namespace

RowWriter::RowWriter(size_t max_rows, const std::vector<extract::ColumnSpec>* columns)
    : max_rows_(max_rows), columns_(columns), all_(*extract::JsonPath::compile("$[*]")) {}

void RowWriter::set_columns(const std::vector<std::string>& names) {
  keys_.clear();
  for (const auto& n : names) {
    std::string k;
    string_into(k, n);
    keys_.push_back(k + ":");
  }
}

void RowWriter::string_into(std::string& out, std::string_view text) {
  if (extract::utf8::find_invalid(text) == std::string_view::npos)
    return extract::append_json_string(out, text);
  std::string clean;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    if (extract::utf8::decode(text, pos, cp)) {
      extract::utf8::append(clean, cp);
    } else {
      extract::utf8::append(clean, 0xFFFD);
      ++pos;
    }
  }
  extract::append_json_string(out, clean);
}

Status RowWriter::begin_row() {
  if (rows_ >= max_rows_)
    return Error(
               "sql.too_many_rows",
               "the query returned more than max_records (" + std::to_string(max_rows_) + ") rows",
               "narrow the query (WHERE, LIMIT) or raise max_records; rows are never cut "
               "silently")
        .with("max_records", std::to_string(max_rows_));
  page_ += page_rows_ ? ",{" : "[{";
  column_ = 0;
  return ok_status();
}

void RowWriter::key() {
  if (column_) page_ += ',';
  page_ += column_ < keys_.size() ? keys_[column_] : std::string("\"?\":");
  ++column_;
}

void RowWriter::null() {
  key();
  page_ += "null";
}

void RowWriter::boolean(bool value) {
  key();
  page_ += value ? "true" : "false";
}

void RowWriter::number(std::string_view text) {
  if (!exact_json_number(text)) return string(text);
  key();
  page_ += text;
}

void RowWriter::integer(long long value) {
  key();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  page_.append(buf, r.ptr);
}

void RowWriter::real(double value) {
  if (!std::isfinite(value))
    return string(std::isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
  key();
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  page_.append(buf, r.ptr);
}

void RowWriter::string(std::string_view text) {
  key();
  string_into(page_, text);
}

void RowWriter::bytes(std::string_view raw) {
  key();
  extract::append_json_string(page_, auth::base64_encode(raw));
}

void RowWriter::timestamp(std::string_view t, bool utc_if_naive) {
  if (t.size() < 19 || (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':')
    return string(t);
  size_t end = 19;
  if (end < t.size() && t[end] == '.') {
    ++end;
    while (end < t.size() && is_digit(t[end])) ++end;
  }
  std::string out(t.substr(0, end));
  out[10] = 'T';
  const std::string_view rest = t.substr(end);
  if (rest.empty()) {
    if (utc_if_naive) out += 'Z';
  } else if (auto offset = rfc3339_offset(rest)) {
    out += *offset;
  } else {
    return string(t);  // "infinity", BC dates, historical offsets with seconds
  }
  string(out);
}

void RowWriter::raw_json(std::string_view json) {
  key();
  page_ += json;
}

Status RowWriter::end_row() {
  page_ += '}';
  ++rows_;
  if (++page_rows_ >= kRowsPerPage) return flush();
  return ok_status();
}

Status RowWriter::flush() {
  if (!page_rows_) return ok_status();
  page_ += ']';
  static const std::vector<extract::ColumnSpec> none;
  const size_t used = page_.size();
  auto s = set_->append_page(std::move(page_), all_, columns_ ? *columns_ : none);
  // The next page is about as long: reserving it (with simdjson's padding) spares the copies of
  // growing a string by doubling, and the one more copy the parser would make to pad it, which
  // with their page faults were a quarter of the CPU samples of a 1,000,000-row fetch (perf).
  page_ = std::string();
  page_.reserve(used + used / 4 + simdjson::SIMDJSON_PADDING);
  page_rows_ = 0;
  return s;
}

Result<std::shared_ptr<const extract::RecordSet>> RowWriter::finish() {
  EXTDATA_TRY(flush());
  return std::shared_ptr<const extract::RecordSet>(set_);
}

}  // namespace extdata::sources::sql
