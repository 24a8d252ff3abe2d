#pragma once
// The source a CLI command works on: from a config file (--file FILE, before it is applied)
// or from the store, built the way the server builds it.
#include <memory>
#include <string>

#include "api/runtime.h"
#include "cli/cli_env.h"
#include "sources/source.h"

namespace extdata::cli {

struct LoadedSource {
  std::unique_ptr<api::Runtime> runtime;  // set when the source came from the store
  std::shared_ptr<sources::Source> source;
};

// `config_file` empty: the stored source `name`. Otherwise the source `name` declared in that
// file (error source.not_found naming the closest name the file declares).
Result<LoadedSource> load_source(CliEnv& env, const std::string& name,
                                 const std::string& config_file);

}  // namespace extdata::cli
