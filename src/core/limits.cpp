#include "core/limits.h"

namespace extdata {

Limits& mutable_limits() {
  static Limits current;
  return current;
}

const Limits& limits() {
  return mutable_limits();
}

const std::vector<LimitSetting>& limit_settings() {
  static const std::vector<LimitSetting> table = {
      {"json_max_depth", "--max-json-depth", "EXTDATA_MAX_JSON_DEPTH", &Limits::json_max_depth,
       "Deepest nesting of objects and arrays in a JSON request body."},
      {"config_max_depth", "--max-config-depth", "EXTDATA_MAX_CONFIG_DEPTH",
       &Limits::config_max_depth, "Deepest nesting of maps and lists in a config document."},
      {"config_max_aliases", "--max-config-aliases", "EXTDATA_MAX_CONFIG_ALIASES",
       &Limits::config_max_aliases, "Most YAML alias uses (*name) in one config document."},
      {"config_max_nodes", "--max-config-nodes", "EXTDATA_MAX_CONFIG_NODES",
       &Limits::config_max_nodes,
       "Most nodes in one config document once every alias is expanded."},
      {"regex_max_repeat", "--max-regex-repeat", "EXTDATA_MAX_REGEX_REPEAT",
       &Limits::regex_max_repeat,
       "Largest count in an I-Regexp quantifier {n,m} (match() and search() in JSONPath)."},
      {"regex_max_cost", "--max-regex-cost", "EXTDATA_MAX_REGEX_COST", &Limits::regex_max_cost,
       "Most steps of one I-Regexp match: text length times compiled program size."},
      {"jsonpath_max_nodes", "--max-jsonpath-nodes", "EXTDATA_MAX_JSONPATH_NODES",
       &Limits::jsonpath_max_nodes, "Most nodes one JSONPath evaluation may select or visit."},
      {"xml_max_depth", "--max-xml-depth", "EXTDATA_MAX_XML_DEPTH", &Limits::xml_max_depth,
       "Deepest element nesting of an XML document queried with XPath."},
      {"source_max_fetches", "--source-max-fetches", "EXTDATA_SOURCE_MAX_FETCHES",
       &Limits::source_max_fetches, "Most upstream fetches of one source running at a time."},
      {"source_max_queued_fetches", "--source-max-queued-fetches",
       "EXTDATA_SOURCE_MAX_QUEUED_FETCHES", &Limits::source_max_queued_fetches,
       "Most fetches of one source waiting for a free slot; more are refused at once."},
      {"source_fetch_wait_ms", "--source-fetch-wait-ms", "EXTDATA_SOURCE_FETCH_WAIT_MS",
       &Limits::source_fetch_wait_ms,
       "Milliseconds a fetch waits for a free slot of its source before it is refused."},
      {"context_max_length", "--max-context-length", "EXTDATA_MAX_CONTEXT_LENGTH",
       &Limits::context_max_length,
       "Most bytes of one request context value (a field's context: may lower it)."},
      {"cache_max_entries", "--max-cache-entries", "EXTDATA_MAX_CACHE_ENTRIES",
       &Limits::cache_max_entries, "Most record sets the record cache keeps, over all sources."},
      {"cache_source_max_entries", "--max-source-cache-entries", "EXTDATA_MAX_SOURCE_CACHE_ENTRIES",
       &Limits::cache_source_max_entries,
       "Most record sets the record cache keeps for one source."},
      {"cache_max_mb", "--max-cache-mb", "EXTDATA_MAX_CACHE_MB", &Limits::cache_max_mb,
       "Most memory (MiB) of the cached record sets, over all sources."},
      {"cache_source_max_mb", "--max-source-cache-mb", "EXTDATA_MAX_SOURCE_CACHE_MB",
       &Limits::cache_source_max_mb, "Most memory (MiB) of the cached record sets of one source."},
      {"snapshot_max_per_source", "--max-snapshots-per-source", "EXTDATA_MAX_SNAPSHOTS_PER_SOURCE",
       &Limits::snapshot_max_per_source,
       "Most snapshots kept in the store per source (the oldest go first)."},
      {"new_keys_per_minute", "--max-new-keys-per-minute", "EXTDATA_MAX_NEW_KEYS_PER_MINUTE",
       &Limits::new_keys_per_minute,
       "Most upstream fetches of keys not in memory, per source and minute."},
      {"options_array_max_bytes", "--max-options-array-bytes", "EXTDATA_MAX_OPTIONS_ARRAY_BYTES",
       &Limits::options_array_max_bytes,
       "Most bytes of one flat options array (options?format=array, Jira Forms)."},
  };
  return table;
}

const LimitSetting& limit_setting(size_t Limits::*member) {
  for (const auto& s : limit_settings())
    if (s.member == member) return s;
  return limit_settings().front();  // unreachable: every member has a row (tested)
}

std::string describe_limit(size_t Limits::*member) {
  const LimitSetting& s = limit_setting(member);
  return std::string("the limit ") + s.name + " (" + std::to_string(limits().*member) +
         "; raise with " + s.flag + " or " + s.env + ")";
}

}  // namespace extdata
