#include "core/error_json.h"

#include "core/error_codes.h"
#include "core/redact.h"
#include "core/strings.h"

namespace extdata {

nlohmann::json to_json(const Error& error) {
  nlohmann::json upstream = nlohmann::json::object();
  for (const auto& [key, value] : error.details) upstream[key] = redact(value);
  return {{"code", error.code},
          {"category", std::string(category_name(error.category()))},
          {"message", redact(error.message)},
          {"hint", as_sentence(redact(error.hint))},
          {"upstream", std::move(upstream)}};
}

nlohmann::json error_document(const Error& error) {
  return {{"ok", false}, {"error", to_json(error)}};
}

}  // namespace extdata
