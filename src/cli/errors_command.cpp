#include "cli/errors_command.h"

#include <iostream>

#include "core/error_codes.h"

namespace extdata::cli {

namespace {

nlohmann::json errors_json() {
  nlohmann::json categories = nlohmann::json::array();
  for (const auto& c : error_categories())
    categories.push_back({{"category", std::string(c.name)},
                          {"http_status", c.http_status},
                          {"exit_code", c.exit_code},
                          {"meaning", std::string(c.meaning)}});
  nlohmann::json codes = nlohmann::json::array();
  for (const auto& e : error_codes())
    codes.push_back({{"code", std::string(e.code)},
                     {"category", std::string(category_name(e.category))},
                     {"meaning", std::string(e.meaning)}});
  return {{"categories", categories}, {"codes", codes}};
}

}  // namespace

void add_errors_command(CLI::App& app, CliEnv& env) {
  app.add_subcommand("errors", "Every error code, its category, HTTP status and exit code")
      ->callback([&env] {
        if (env.json()) return env.print(errors_json());
        std::cout << errors_markdown();
      });
}

}  // namespace extdata::cli
