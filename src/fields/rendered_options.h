#pragma once
// RenderedOptions: the JSON text of recent option pages, shared by all fields of a server.
//
// Typeahead traffic asks the same few prefixes over and over ("a", "ab", "abb" from every
// user of a form), and writing 20 records' JSON costs far more than the search. A page is
// keyed by the options table it came from (a table lives as long as its record set and field
// version, so a refresh or an edited field never serves old text; a table patched after a delta
// sync takes over only the pages no changed option can alter, move_prefix) and the query. Least
// recently used pages are dropped beyond a byte budget; a budget of 0 turns the cache off.
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/metrics.h"

namespace extdata::fields {

class RenderedOptions {
 public:
  RenderedOptions(size_t max_bytes, Metrics& metrics);

  // The cached text, or null (counted as a hit or a miss).
  std::shared_ptr<const std::string> find(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const std::string> text);
  // Drops the pages whose key starts with `prefix` (a replaced table's: they can never be asked
  // for again, and would only hold budget until they age out).
  void erase_prefix(const std::string& prefix);
  // Moves the pages whose key starts with `from` and whose rest `keep` approves to the same rest
  // after `to` (a patched table's pages that it answers with the same text), and drops the
  // others under `from`. A page already under `to` stays as it is. `keep` is called without
  // the lock held (pages may be added or evicted meanwhile).
  void move_prefix(const std::string& from, const std::string& to,
                   const std::function<bool(std::string_view rest)>& keep);

  size_t bytes() const;
  size_t max_bytes() const { return max_bytes_; }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;
  const size_t max_bytes_;
  Counter& hits_;
  Counter& misses_;
  Counter& evictions_;
  mutable std::mutex mu_;
  std::list<Entry> recent_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace extdata::fields
