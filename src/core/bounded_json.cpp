#include "core/bounded_json.h"

#include "core/limits.h"

namespace extdata {

std::optional<size_t> json_depth_exceeded_at(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

Status check_request_depth(std::string_view body) {
  if (auto at = json_depth_exceeded_at(body, limits().json_max_depth))
    return Error("api.json_too_deep",
                 "the request body nests deeper than " + std::to_string(limits().json_max_depth) +
                     " levels (at byte " + std::to_string(*at) + ")",
                 "Send a flatter document; the server refuses it by " +
                     describe_limit(&Limits::json_max_depth) + ".")
        .with("limit", "json_max_depth");
  return ok_status();
}

Result<nlohmann::json> parse_request_json(std::string_view body) {
  EXTDATA_TRY(check_request_depth(body));
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded())
    return Error("api.bad_json", "the request body is not valid JSON",
                 "Check quotes, commas and brackets.");
  return parsed;
}

Result<nlohmann::json> parse_request_object(std::string_view body, std::string_view hint,
                                            bool empty_is_object) {
  if (empty_is_object && body.empty()) return nlohmann::json::object();
  auto parsed = parse_request_json(body);
  if (!parsed.ok() && parsed.error().code != "api.bad_json") return parsed;
  if (!parsed.ok() || !parsed->is_object())
    return Error("api.bad_json", "the request body is not a JSON object", std::string(hint));
  return parsed;
}

}  // namespace extdata
