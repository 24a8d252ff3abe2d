// Full fetch of an sql source, for bench/run-sql.sh: builds the source from a YAML config file
// exactly as `extdata` would and runs its query once, every row into the RecordSet.
//   bench_sql_fetch CONFIG.yaml
// Prints "records=N ms=T memory_bytes=B anon_huge_kib=H" on success (H: the process's memory
// in transparent huge pages then, from /proc/self/smaps_rollup), the error on failure (exit 1).
// With BENCH_SQL_DIGEST=1 it adds "digest=D", a hash of the records' snapshot text, so that two
// builds or two queries can be checked to give the same records.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/metrics.h"
#include "sources/kinds.h"
#include "sources/source.h"

namespace {
// The AnonHugePages line of /proc/self/smaps_rollup, in KiB (0 when it cannot be read).
long anon_huge_kib() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string key;
  long kib = 0;
  while (rollup >> key) {
    if (key == "AnonHugePages:") {
      rollup >> kib;
      return kib;
    }
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace extdata;
  if (argc != 2) {
    std::cerr << "usage: bench_sql_fetch CONFIG.yaml\n";
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
  sources::SourceDeps deps{SystemClock::instance(), Metrics::global(), nullptr, nullptr};
  const auto started = std::chrono::steady_clock::now();
  auto source = sources::make_source(*config, deps);
  if (!source.ok()) {
    std::cerr << source.error().to_string() << "\n";
    return 1;
  }
  auto records = (*source)->fetch({}, nullptr);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (!records.ok()) {
    std::cerr << records.error().to_string() << "\n";
    return 1;
  }
  std::cout << "records=" << (*records)->size() << " ms=" << ms
            << " memory_bytes=" << (*records)->memory_bytes()
            << " anon_huge_kib=" << anon_huge_kib();
  if (std::getenv("BENCH_SQL_DIGEST"))
    std::cout << " digest=" << std::hash<std::string>{}((*records)->to_json());
  std::cout << "\n";
  return 0;
}
