#include "cli/load_source.h"

#include "config/config.h"

namespace extdata::cli {

Result<LoadedSource> load_source(CliEnv& env, const std::string& name,
                                 const std::string& config_file) {
  LoadedSource out;
  if (!config_file.empty()) {
    EXTDATA_ASSIGN_OR_RETURN(auto file, config::load_config_file(config_file, {}, env.secrets_dir));
    const config::SourceConfig* found = nullptr;
    std::vector<std::string> names;
    for (const auto& s : file.sources) {
      names.push_back(s.name);
      if (s.name == name) found = &s;
    }
    if (!found) {
      auto near = config::closest_match(name, names);
      return Error("source.not_found", "no source named '" + name + "' in " + config_file,
                   near ? "Did you mean '" + *near + "'?" : "The file declares no such source.");
    }
    sources::SourceDeps deps{SystemClock::instance(), Metrics::global(), nullptr, {}};
    EXTDATA_ASSIGN_OR_RETURN(out.source, sources::make_source(*found, deps));
    return out;
  }
  EXTDATA_ASSIGN_OR_RETURN(auto store, env.open_store());
  out.runtime =
      std::make_unique<api::Runtime>(std::move(store), SystemClock::instance(), Metrics::global());
  EXTDATA_ASSIGN_OR_RETURN(out.source, out.runtime->source(name));
  return out;
}

}  // namespace extdata::cli
