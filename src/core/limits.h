#pragma once
// Operator limits: how much work one request, config document or query may cause before
// extdata refuses it. Callers and upstreams are hostile (docs/limits.md): every bound is
// checked before the recursion, allocation or match it protects.
//
// The values are operator settings — flags or environment variables of the `extdata`
// command (`--max-json-depth`, EXTDATA_MAX_JSON_DEPTH …), never part of a config document
// or the API. They are set once at start-up, before any thread reads them; tests change
// them through ScopedLimits.
#include <cstddef>
#include <string>
#include <vector>

namespace extdata {

struct Limits {
  // Nesting of a JSON request body (objects and arrays).
  size_t json_max_depth = 64;
  // Nesting of a config document (YAML or JSON: maps and lists).
  size_t config_max_depth = 64;
  // Alias uses (`*name`) in one config document.
  size_t config_max_aliases = 100;
  // Nodes of a config document with every alias expanded (billion laughs stops here).
  size_t config_max_nodes = 100000;
  // Largest count in an I-Regexp quantifier: a{0,N}.
  size_t regex_max_repeat = 1000;
  // Matching budget of one I-Regexp match: text length × compiled program size.
  size_t regex_max_cost = 10'000'000;
  // Nodes a JSONPath query may select or visit in one evaluation (descendant segments
  // visit every node below them once per selected node).
  size_t jsonpath_max_nodes = 1'000'000;
  // Element nesting of an XML document given to XPath.
  size_t xml_max_depth = 256;
  // Upstream fetches of one source running at the same time, so one slow source cannot hold
  // every worker (sources/common/fetch_slots.h).
  size_t source_max_fetches = 4;
  // Fetches of one source waiting for a slot; one more is refused at once.
  size_t source_max_queued_fetches = 2;
  // How long a fetch waits for a slot before it is refused (milliseconds).
  size_t source_fetch_wait_ms = 2000;
  // Bytes of one request context value (ctx.country=…); a field's `context:` may lower it.
  size_t context_max_length = 256;
  // Record sets the record cache keeps in memory, over all sources and per source
  // (least recently used ones are evicted beyond either bound).
  size_t cache_max_entries = 10000;
  size_t cache_source_max_entries = 1000;
  // Memory of the cached record sets (RecordSet::memory_bytes), in MiB, overall and per source.
  size_t cache_max_mb = 1024;
  size_t cache_source_max_mb = 512;
  // Snapshots kept in the store per source (the oldest are deleted beyond it).
  size_t snapshot_max_per_source = 100;
  // Upstream fetches of keys not in memory, per source and minute (a token bucket that
  // allows this many at once and refills at this rate).
  size_t new_keys_per_minute = 120;
  // Bytes of one flat options array (`…/options?format=array`, what Jira Forms fetches; its
  // documented maximum is 10 MB). Over it the answer is refused, never cut short.
  size_t options_array_max_bytes = 10'000'000;
};

// The limits in force (process-wide, read-only after start-up).
const Limits& limits();
Limits& mutable_limits();

// One row per limit: what docs/limits.md, `--help` and error messages name.
struct LimitSetting {
  const char* name;  // json_max_depth
  const char* flag;  // --max-json-depth
  const char* env;   // EXTDATA_MAX_JSON_DEPTH
  size_t Limits::*member;
  const char* description;  // one sentence for people
};
const std::vector<LimitSetting>& limit_settings();
const LimitSetting& limit_setting(size_t Limits::*member);

// "the limit json_max_depth (64; raise with --max-json-depth or EXTDATA_MAX_JSON_DEPTH)"
std::string describe_limit(size_t Limits::*member);

// Replaces the limits for a test's lifetime.
class ScopedLimits {
 public:
  explicit ScopedLimits(const Limits& replacement) : saved_(limits()) {
    mutable_limits() = replacement;
  }
  ~ScopedLimits() { mutable_limits() = saved_; }
  ScopedLimits(const ScopedLimits&) = delete;
  ScopedLimits& operator=(const ScopedLimits&) = delete;

 private:
  Limits saved_;
};

}  // namespace extdata
