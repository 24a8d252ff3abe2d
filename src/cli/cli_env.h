#pragma once
// What every CLI command shares: global options, the store, and output helpers.
#include <CLI/CLI.hpp>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace extdata::cli {

struct CliEnv {
  std::string data_flag;        // --data
  std::string output = "text";  // --output text|json
  int exit_code = 0;

  // Stable storage for option values bound by CLI11 (lives as long as the env).
  std::string* slot(std::string initial = {}) { return &strings_.emplace_back(std::move(initial)); }
  std::vector<std::string>* list_slot() { return &lists_.emplace_back(); }

  bool json() const { return output == "json"; }
  std::string data_dir() const { return store::resolve_data_dir(data_flag); }
  Result<std::unique_ptr<store::Store>> open_store() const {
    return store::open_sqlite_store(data_dir());
  }

  // Prints an error (text on stderr, or core's error_document on stdout) and sets the exit
  // code of its category.
  void fail(const Error& error);
  // Prints JSON on stdout (pretty).
  void print(const nlohmann::json& value) const;

 private:
  std::deque<std::string> strings_;
  std::deque<std::vector<std::string>> lists_;
};

// Parses repeated --var k=v options.
Result<std::map<std::string, std::string>> parse_vars(const std::vector<std::string>& vars);

}  // namespace extdata::cli
