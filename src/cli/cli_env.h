#pragma once
// What every CLI command shares: global options, the store, and output helpers.
#include <CLI/CLI.hpp>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "store/open_store.h"
#include "store/store.h"

namespace extdata::cli {

struct CliEnv {
  std::string data_flag;        // --data
  std::string store_flag;       // --store (a postgresql:// URL; empty: SQLite in --data)
  std::string secrets_dir;      // --secrets-dir / EXTDATA_SECRETS_DIR: what ${file:} may read
  std::string output = "text";  // --output text|json
  int exit_code = 0;

  // Stable storage for option values bound by CLI11 (lives as long as the env).
  std::string* slot(std::string initial = {}) { return &strings_.emplace_back(std::move(initial)); }
  std::vector<std::string>* list_slot() { return &lists_.emplace_back(); }

  bool json() const { return output == "json"; }
  bool table() const { return output == "table"; }
  std::string data_dir() const { return store::resolve_data_dir(data_flag); }
  // --store, else $EXTDATA_STORE; empty for the SQLite store in data_dir().
  std::string store_url() const { return store::resolve_store_url(store_flag); }
  // Where the store is, for messages: the data directory or the PostgreSQL server.
  std::string store_name() const;
  // The store (PostgreSQL when store_url() is set, else SQLite in data_dir()); for SQLite,
  // error store.not_found when there is none (a mistyped --data must not leave an empty store
  // and a new key behind). Only `init` and `apply` create one.
  Result<std::unique_ptr<store::Store>> open_store() const;
  Result<std::unique_ptr<store::Store>> open_or_create_store() const;

  // A list: a JSON array of `rows` (objects) with --output json; aligned columns under a
  // header with --output table; one tab-separated line per row otherwise (for scripts).
  // `columns` are (key, header) pairs; `empty` is printed on stderr when there are no rows.
  void print_rows(const std::vector<std::pair<std::string, std::string>>& columns,
                  const nlohmann::json& rows, const std::string& empty) const;

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
