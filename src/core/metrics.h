#pragma once
// Counters and gauges you can assert on in tests and scrape on /metrics
// (Prometheus text format). Thread-safe; lookups by name + labels.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace extdata {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(long long by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  long long value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<long long> value_{0};
};

class Gauge {
 public:
  void set(double v) {
    std::lock_guard lock(mu_);
    value_ = v;
  }
  double value() const {
    std::lock_guard lock(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  double value_ = 0;
};

class Metrics {
 public:
  // The process-wide registry; tests may create their own.
  static Metrics& global();

  // Returns a stable reference; the same name + labels always give the same counter.
  Counter& counter(const std::string& name, const Labels& labels = {},
                   const std::string& help = {});
  Gauge& gauge(const std::string& name, const Labels& labels = {}, const std::string& help = {});
  // Removes every gauge of that name whose labels contain `label` (e.g. a deleted source).
  void drop_gauges(const std::string& name, const std::pair<std::string, std::string>& label);

  // Current value, 0 when the counter does not exist.
  long long counter_value(const std::string& name, const Labels& labels = {}) const;

  std::string prometheus_text() const;

 private:
  struct Family {
    std::string help;
    bool is_gauge = false;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

std::string render_labels(const Labels& labels);

}  // namespace extdata
