#pragma once
// A source of any kind made from a spec, with an injected clock and metrics to assert on.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "sources/kinds.h"

namespace extdata::testing {

struct SourceFixture {
  ManualClock clock;
  Metrics metrics;
  sources::SourceDeps deps{clock, metrics, nullptr, {}};
  std::string name = "src";  // the name sources are made with

  Result<std::shared_ptr<sources::Source>> make(const nlohmann::json& spec) {
    return make(spec, name);
  }
  Result<std::shared_ptr<sources::Source>> make(const nlohmann::json& spec,
                                                const std::string& source_name) {
    auto config = config::parse_source(spec.dump(), source_name);
    if (!config.ok()) return config.error();
    return sources::make_source(*config, deps);
  }
  std::shared_ptr<sources::Source> must_make(const nlohmann::json& spec) {
    auto s = make(spec);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().code + ": " + s.error().message);
    return s.ok() ? *s : nullptr;
  }
};

}  // namespace extdata::testing
