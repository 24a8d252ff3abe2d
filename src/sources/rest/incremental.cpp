#include "sources/rest/incremental.h"

#include <charconv>

#include "extract/json_text.h"
#include "sources/common/record_reader.h"

namespace extdata::sources::rest {

using nlohmann::json;

std::string SyncCursor::encode() const {
  return json{{"since", since}, {"full_at", full_at}}.dump();
}

std::optional<SyncCursor> SyncCursor::decode(const std::string& text) {
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const auto since = parsed.find("since");
  const auto full_at = parsed.find("full_at");
  if (since == parsed.end() || !since->is_string() || full_at == parsed.end() ||
      !full_at->is_number_integer())
    return std::nullopt;
  return SyncCursor{since->get<std::string>(), full_at->get<std::int64_t>()};
}

namespace {

// A value that is present and neither false nor null marks a removal ("deleted": true, a
// tombstone object, a deletion time).
bool marks_removal(const std::optional<simdjson::dom::element>& value) {
  if (!value || value->is_null()) return false;
  bool flag = true;
  if (value->get_bool().get(flag) == simdjson::SUCCESS) return flag;
  return true;
}

std::optional<double> as_number(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Cursor values compare as numbers when both are numbers (epoch seconds, sequence numbers) and
// as text otherwise (ISO 8601 times in one format and zone sort as text).
bool later(std::string_view candidate, std::string_view best) {
  const auto a = as_number(candidate);
  const auto b = as_number(best);
  if (a && b) return *a > *b;
  return candidate > best;
}

Result<std::optional<extract::JsonPath>> optional_path(const json& spec, const char* name) {
  const auto it = spec.find(name);
  if (it == spec.end() || it->is_null()) return std::optional<extract::JsonPath>();
  EXTDATA_ASSIGN_OR_RETURN(
      extract::JsonPath path,
      compile_source_jsonpath(it->get<std::string>(), std::string("incremental.") + name));
  return std::optional<extract::JsonPath>(std::move(path));
}

}  // namespace

Result<std::optional<IncrementalSync>> IncrementalSync::compile(const json& spec) {
  const auto it = spec.find("incremental");
  if (it == spec.end() || it->is_null()) return std::optional<IncrementalSync>();
  const json& inc = *it;
  IncrementalSync sync;
  sync.since_param_ = inc.value("since_param", std::string());
  EXTDATA_ASSIGN_OR_RETURN(sync.cursor_, optional_path(inc, "cursor"));
  EXTDATA_ASSIGN_OR_RETURN(sync.cursor_max_, optional_path(inc, "cursor_max"));
  EXTDATA_ASSIGN_OR_RETURN(auto key, optional_path(inc, "key"));
  EXTDATA_ASSIGN_OR_RETURN(auto deleted, optional_path(inc, "deleted"));
  if (inc.contains("full_every") && inc["full_every"].is_number())
    sync.full_every_ = inc["full_every"].get<double>();
  // The schema's check has already required since_param, key and one of the cursors.
  auto key_path = std::make_shared<const extract::JsonPath>(std::move(*key));
  std::shared_ptr<const extract::JsonPath> deleted_path;
  if (deleted) deleted_path = std::make_shared<const extract::JsonPath>(std::move(*deleted));
  sync.rules_.key = [key_path](const extract::RecordRef& record) -> std::optional<std::string> {
    const auto json = record.json();
    const auto value = key_path->first(json.root());
    if (!value || value->is_null()) return std::nullopt;
    return extract::display_text(*value);
  };
  sync.rules_.removes = [deleted_path](const extract::RecordRef& record) {
    if (!deleted_path) return false;
    const auto json = record.json();
    return marks_removal(deleted_path->first(json.root()));
  };
  return std::optional<IncrementalSync>(std::move(sync));
}

std::optional<std::string> IncrementalSync::next_since(
    const extract::RecordSet& records, const std::optional<simdjson::dom::element>& last_page,
    const std::string& previous) const {
  if (cursor_) {
    if (last_page) {
      if (auto value = cursor_->first(*last_page); value && !value->is_null())
        return extract::display_text(*value);
    }
    if (previous.empty()) return std::nullopt;
    return previous;
  }
  std::string best = previous;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto json = records[i].json();
    const auto value = cursor_max_->first(json.root());
    if (!value || value->is_null()) continue;
    std::string text = extract::display_text(*value);
    if (best.empty() || later(text, best)) best = std::move(text);
  }
  if (best.empty()) return std::nullopt;
  return best;
}

}  // namespace extdata::sources::rest
