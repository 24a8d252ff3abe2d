// libFuzzer target: raw HTTP requests through the transport's request reader (limits, target
// checks) into the API handler, in process, against a store with one source and one field.
// "@ADMIN@" and "@READER@" in the input become real tokens, so the seeds reach admin routes.
// Outbound requests go to a proxy on 127.0.0.1:9 that refuses connections (nothing leaves
// the machine) and retries wait on a manual clock.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <string>

#include "api/api_server.h"
#include "sources/kinds.h"

namespace {

using namespace extdata;

struct World {
  ManualClock clock;
  Metrics metrics;
  std::unique_ptr<api::Runtime> runtime;
  std::unique_ptr<api::ApiServer> server;
  std::string admin, reader;
  server::ServerOptions transport;

  World() {
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
    setenv("NO_PROXY", "", 1);
    unsetenv("EXTDATA_MASTER_KEY");
    const auto dir =
        std::filesystem::temp_directory_path() / ("extdata-fuzz-api-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto store = store::open_sqlite_store(dir.string());
    if (!store.ok()) __builtin_trap();
    admin = *(*store)->create_token("admin", "fuzz", 0);
    reader = *(*store)->create_token("reader", "fuzz", 0);
    auto config = config::parse_config(R"(sources:
  - name: s
    type: rest
    url: http://upstream.invalid/items?q={q}
    records: $.items[*]
    timeout: 1s
fields:
  - name: f
    source: s
)");
    if (!config.ok() || !(*store)->apply(*config).ok()) __builtin_trap();
    runtime = std::make_unique<api::Runtime>(std::move(*store), clock, metrics);
    api::ApiOptions options;
    options.workers = 1;
    options.anonymous_read = true;
    options.web_dir = EXTDATA_FUZZ_WEB_DIR;
    server = std::make_unique<api::ApiServer>(*runtime, options);
    transport = options.server;
  }
};

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

// OpenSSL keeps state for the in-process server's threads, which live as long as the process;
// LeakSanitizer reports that allocation at exit. Only OpenSSL's allocator is suppressed.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:CRYPTO_zalloc\n";
}

// Source kinds and auth methods are registered once, as every main() does.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  extdata::sources::register_builtin_kinds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  replace_all(bytes, "@ADMIN@", world.admin);
  replace_all(bytes, "@READER@", world.reader);
  auto read = server::read_raw_request(bytes, world.transport);
  if (std::holds_alternative<server::Response>(read)) return 0;
  std::promise<server::Response> answered;
  world.server->handle(std::get<server::Request>(read),
                       [&answered](server::Response r) { answered.set_value(std::move(r)); });
  const server::Response response = answered.get_future().get();
  if (response.status < 100 || response.status > 599) __builtin_trap();
  return 0;
}
