#include "fields/rendered_options.h"

#include <vector>

namespace extdata::fields {

namespace {
constexpr const char* kName = "extdata_options_rendered_total";
constexpr const char* kHelp = "Options pages answered from rendered JSON (hit) or rendered (miss)";
}  // namespace

RenderedOptions::RenderedOptions(size_t max_bytes, Metrics& metrics)
    : max_bytes_(max_bytes),
      hits_(metrics.counter(kName, {{"result", "hit"}}, kHelp)),
      misses_(metrics.counter(kName, {{"result", "miss"}}, kHelp)),
      evictions_(metrics.counter("extdata_options_rendered_evictions_total", {},
                                 "Rendered options pages dropped to stay within the budget")) {}

std::shared_ptr<const std::string> RenderedOptions::find(const std::string& key) {
  if (max_bytes_ == 0) {
    misses_.inc();
    return nullptr;
  }
  std::lock_guard lock(mu_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    misses_.inc();
    return nullptr;
  }
  recent_.splice(recent_.begin(), recent_, it->second);
  hits_.inc();
  return it->second->second;
}

void RenderedOptions::put(const std::string& key, std::shared_ptr<const std::string> text) {
  const size_t size = key.size() + text->size();
  if (size > max_bytes_ / 4) return;  // one huge page must not flush everything else
  std::lock_guard lock(mu_);
  if (const auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->first.size() + it->second->second->size();
    recent_.erase(it->second);
    index_.erase(it);
  }
  recent_.emplace_front(key, std::move(text));
  index_.emplace(key, recent_.begin());
  bytes_ += size;
  while (bytes_ > max_bytes_ && !recent_.empty()) {
    const Entry& oldest = recent_.back();
    bytes_ -= oldest.first.size() + oldest.second->size();
    index_.erase(oldest.first);
    recent_.pop_back();
    evictions_.inc();
  }
}

void RenderedOptions::erase_prefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (!it->first.starts_with(prefix)) {
      ++it;
      continue;
    }
    bytes_ -= it->first.size() + it->second->size();
    index_.erase(it->first);
    it = recent_.erase(it);
  }
}

void RenderedOptions::move_prefix(const std::string& from, const std::string& to,
                                  const std::function<bool(std::string_view rest)>& keep) {
  std::vector<std::string> rests;  // asked outside the lock: keep() may take a while
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, text] : recent_) {
      if (key.starts_with(from)) rests.push_back(key.substr(from.size()));
    }
  }
  std::vector<bool> kept;
  kept.reserve(rests.size());
  for (const std::string& rest : rests) kept.push_back(keep(rest));
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < rests.size(); ++i) {
    const auto it = index_.find(from + rests[i]);
    if (it == index_.end()) continue;  // evicted meanwhile
    const auto entry = it->second;
    index_.erase(it);
    std::string moved = to + rests[i];
    bytes_ -= entry->first.size();
    if (kept[i] && !index_.count(moved)) {
      bytes_ += moved.size();
      entry->first = std::move(moved);
      index_.emplace(entry->first, entry);
    } else {
      bytes_ -= entry->second->size();
      recent_.erase(entry);
    }
  }
}

size_t RenderedOptions::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace extdata::fields
