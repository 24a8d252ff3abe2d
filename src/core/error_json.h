#pragma once
// The one writer of errors as JSON, for every caller: the API, `extdata ... --output json`,
// source test reports, auth diagnostics and the options answers of fields. Secrets are
// redacted here, once, in the message, the hint and every upstream detail.
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace extdata {

// {"code", "category", "message", "hint", "upstream": {details}}: every key always present
// (hint may be "", upstream may be {}), so clients read one shape.
nlohmann::json to_json(const Error& error);

// {"ok": false, "error": to_json(error)}: the whole answer of a failed request or command.
nlohmann::json error_document(const Error& error);

}  // namespace extdata
