#pragma once
// Parsing JSON that a caller sent: the nesting depth is checked by a linear scan before
// nlohmann::json builds anything, so no recursive walk (dump, copy, compare) ever sees a
// document deeper than limits().json_max_depth. Every API request body goes through here.
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace extdata {

// The byte offset where nesting first exceeds max_depth, or nullopt. Brackets inside
// strings do not count; the scan is linear and allocates nothing.
std::optional<size_t> json_depth_exceeded_at(std::string_view text, size_t max_depth);

// api.json_too_deep (naming the limit) when the body nests deeper than the limit; for bodies
// that are parsed by another parser (a field's JSON or YAML goes to the config loader).
Status check_request_depth(std::string_view body);

// The body as JSON, or api.json_too_deep (naming the limit) / api.bad_json.
Result<nlohmann::json> parse_request_json(std::string_view body);

// The body as a JSON object (an empty body is {} when empty_is_object), or an error whose
// hint is `hint`.
Result<nlohmann::json> parse_request_object(std::string_view body, std::string_view hint,
                                            bool empty_is_object = false);

}  // namespace extdata
