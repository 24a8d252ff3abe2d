#include "cli/cli_env.h"

#include <iostream>

#include "core/error_codes.h"
#include "core/error_json.h"
#include "core/redact.h"

namespace extdata::cli {

void CliEnv::fail(const Error& error) {
  exit_code = extdata::exit_code(error);
  if (json()) {
    print(error_document(error));
    return;
  }
  std::cerr << "error: " << redact(error.message) << "\n";
  if (!error.hint.empty()) std::cerr << "hint: " << redact(error.hint) << "\n";
  for (const auto& [k, v] : error.details) {
    if (k == "issues") continue;  // already in the message
    std::cerr << "  " << k << ": " << redact(v) << "\n";
  }
}

void CliEnv::print(const nlohmann::json& value) const {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

Result<std::map<std::string, std::string>> parse_vars(const std::vector<std::string>& vars) {
  std::map<std::string, std::string> out;
  for (const auto& v : vars) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error("cli.bad_var", "--var '" + v + "' is not of the form name=value",
                   "Write --var country=Germany.");
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

}  // namespace extdata::cli
