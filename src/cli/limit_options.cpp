#include "cli/limit_options.h"

#include "core/limits.h"

namespace extdata::cli {

void add_limit_options(CLI::App& app) {
  for (const LimitSetting& setting : limit_settings()) {
    app.add_option(setting.flag, mutable_limits().*setting.member,
                   std::string(setting.description) + " (see docs/limits.md)")
        ->envname(setting.env)
        ->check(CLI::PositiveNumber)
        ->capture_default_str()
        ->group("Limits");
  }
}

}  // namespace extdata::cli
