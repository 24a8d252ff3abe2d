#pragma once
// Test doubles shared by the cache and field tests: a Source that counts fetches and fails on
// demand, an executor the test drains by hand, and a temporary SQLite store.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cache/record_cache.h"
#include "sources/source.h"
#include "store/store.h"

namespace extdata::testing_support {

class FakeSource : public sources::Source {
 public:
  using Body = std::function<std::string(const sources::Variables&, int fetch_number)>;

  FakeSource(std::string name, nlohmann::json spec, Body body) : body_(std::move(body)) {
    config_.name = std::move(name);
    config_.type = "rest";
    config_.spec = std::move(spec);
  }

  const config::SourceConfig& config() const override { return config_; }
  config::SourceConfig& mutable_config() { return config_; }

  Result<std::shared_ptr<const extract::RecordSet>> fetch(const sources::FetchRequest& request,
                                                          sources::FetchTrace* = nullptr) override {
    const int number = ++fetches;
    {
      std::lock_guard lock(mu_);
      seen_variables.push_back(request.variables);
    }
    {
      std::unique_lock lock(mu_);
      entered_ = true;
      entered_cv_.notify_all();
      gate_cv_.wait(lock, [&] { return gate_open_; });
    }
    if (fail) {
      Error e("source.upstream_error", "upstream answered 503", "try again later");
      std::lock_guard lock(mu_);
      if (!fail_retry_after.empty()) e.with("retry_after", fail_retry_after);
      return e;
    }
    auto records = extract::JsonPath::compile("$[*]");
    extract::RecordSet set;
    auto appended = set.append_page(body_(request.variables, number), *records, {});
    if (!appended.ok()) return std::move(appended).error();
    return std::shared_ptr<const extract::RecordSet>(
        std::make_shared<extract::RecordSet>(std::move(set)));
  }
  std::vector<std::string> variable_names() const override { return {}; }
  std::shared_ptr<auth::Credential> credential() const override { return nullptr; }

  // Makes fetch() wait until open_gate() (to pile callers up on one fetch).
  void close_gate() {
    std::lock_guard lock(mu_);
    gate_open_ = false;
    entered_ = false;
  }
  void open_gate() {
    std::lock_guard lock(mu_);
    gate_open_ = true;
    gate_cv_.notify_all();
  }
  void wait_entered() {
    std::unique_lock lock(mu_);
    entered_cv_.wait(lock, [&] { return entered_; });
  }
  std::vector<sources::Variables> variables_seen() {
    std::lock_guard lock(mu_);
    return seen_variables;
  }

  std::atomic<int> fetches{0};
  std::atomic<bool> fail{false};
  std::string fail_retry_after;  // details.retry_after of the failure (a throttled upstream)

 private:
  config::SourceConfig config_;
  Body body_;
  std::mutex mu_;
  std::condition_variable gate_cv_, entered_cv_;
  bool gate_open_ = true;
  bool entered_ = false;
  std::vector<sources::Variables> seen_variables;
};

class ManualExecutor {
 public:
  cache::Executor executor() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    };
  }
  size_t pending() {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }
  // Runs queued tasks (and the ones they queue) until none is left; returns how many ran.
  size_t run_all() {
    size_t ran = 0;
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(mu_);
        if (tasks_.empty()) return ran;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
      ++ran;
    }
  }

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
};

struct TempDir {
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("extdata-cache-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

inline std::unique_ptr<store::Store> open_store(const TempDir& dir) {
  unsetenv("EXTDATA_MASTER_KEY");
  auto store = store::open_sqlite_store(dir.path.string());
  if (!store.ok()) throw std::runtime_error(store.error().message);
  return std::move(store).value();
}

// Cities for a country: each fetch numbers its titles so tests can tell fetches apart.
inline std::string cities_body(const sources::Variables& variables, int fetch_number) {
  const auto it = variables.find("country");
  const std::string country = it == variables.end() ? "ALL" : it->second;
  std::string suffix = fetch_number > 1 ? " v" + std::to_string(fetch_number) : "";
  if (country == "FR") {
    return R"([{"id":10,"fields":{"Title":"Paris)" + suffix +
           R"(","Country":"FR"}},)"
           R"({"id":11,"fields":{"Title":"Lyon)" +
           suffix + R"(","Country":"FR"}}])";
  }
  return R"([{"id":1,"fields":{"Title":"Berlin)" + suffix +
         R"(","Country":"DE","Population":3645000}},)"
         R"({"id":2,"fields":{"Title":"Bremen)" +
         suffix +
         R"(","Country":"DE","Population":567000}},)"
         R"({"id":3,"fields":{"Title":"Bonn)" +
         suffix + R"(","Country":"DE","Population":330000}}])";
}

}  // namespace extdata::testing_support
