// libFuzzer target: the config loader on YAML and JSON documents — a config file
// (parse_config), one source or field as the API receives them (parse_request_json, then
// parse_source / parse_field). Hostile documents (deep nesting, alias bombs, self-references,
// duplicate keys, bad UTF-8) must end in errors, never a crash, a hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "core/bounded_json.h"
#include "sources/kinds.h"

// Source kinds and auth methods are registered once, as every main() does.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  extdata::sources::register_builtin_kinds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)extdata::config::parse_config(text, {.secrets_dir = "/nonexistent"});
  (void)extdata::config::parse_source(text, "fuzz");
  (void)extdata::config::parse_field(text, "fuzz", {"s"});
  if (auto body = extdata::parse_request_json(text); body.ok() && body->is_object()) {
    (void)extdata::config::parse_source(body->dump(), "fuzz");
  }
  return 0;
}
