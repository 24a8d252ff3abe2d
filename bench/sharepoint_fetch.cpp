// Full fetch of a sharepoint-list source, for bench/run-sharepoint.sh: builds the source
// from a YAML config file exactly as `extdata` would and fetches every page once.
//   bench_sharepoint_fetch CONFIG.yaml
// Prints "items=N pages=P ms=T" on success, the error on failure (exit 1).
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "auth/oauth2/token_cache.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/metrics.h"
#include "sources/kinds.h"
#include "sources/sharepoint/sharepoint_source.h"

int main(int argc, char** argv) {
  using namespace extdata;
  if (argc != 2) {
    std::cerr << "usage: bench_sharepoint_fetch CONFIG.yaml\n";
    return 2;
  }
  memory::map_large_buffers_separately();  // as extdata's main does
  sources::register_builtin_kinds();
  log::init("warn");
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  auto config = config::parse_source(text.str(), "bench");
  if (!config.ok()) {
    std::cerr << config.error().to_string() << "\n";
    return 2;
  }
  auto cache = std::make_shared<auth::TokenCache>(SystemClock::instance());
  sources::SourceDeps deps{SystemClock::instance(), Metrics::global(), cache, nullptr};
  const auto started = std::chrono::steady_clock::now();
  auto source = sources::sharepoint::make_sharepoint_source(*config, deps);
  if (!source.ok()) {
    std::cerr << source.error().to_string() << "\n";
    return 1;
  }
  sources::FetchTrace trace;
  auto records = (*source)->fetch({}, &trace);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (!records.ok()) {
    std::cerr << records.error().to_string() << "\n";
    return 1;
  }
  std::cout << "items=" << (*records)->size() << " pages=" << trace.pages << " ms=" << ms
            << " memory_bytes=" << (*records)->memory_bytes() << "\n";
  return 0;
}
