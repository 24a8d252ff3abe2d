#pragma once
// Typed reading of YAML (and JSON, which yaml-cpp also reads) with errors that name
// the key path and line: "tenants[0].apps[1].secrets[0].expires (line 23): ...".
#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace graphsim {

class YamlReader {
 public:
  YamlReader(YAML::Node node, std::string path, int fallback_line = 0)
      : node_(std::move(node)), path_(std::move(path)), fallback_line_(fallback_line) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  int line() const;  // 1-based; the parent's line when this node is absent
  bool present() const { return node_.IsDefined() && !node_.IsNull(); }

  extdata::Error error(const std::string& message, const std::string& hint = {}) const;

  // Child access; a missing key yields an absent reader (present() == false).
  YamlReader operator[](const std::string& key) const;
  YamlReader at(size_t index) const;

  extdata::Status expect_map() const;
  extdata::Status expect_sequence() const;
  // Rejects keys outside `allowed` (catches typos such as `indexd`).
  extdata::Status only_keys(std::initializer_list<const char*> allowed) const;
  size_t size() const { return node_.IsSequence() ? node_.size() : 0; }

  extdata::Result<std::string> string() const;  // scalar required
  extdata::Result<std::string> string_or(const std::string& fallback) const;
  extdata::Result<long long> integer() const;
  extdata::Result<long long> integer_or(long long fallback) const;
  extdata::Result<double> number() const;
  extdata::Result<bool> boolean() const;
  extdata::Result<bool> boolean_or(bool fallback) const;
  extdata::Result<std::vector<std::string>> string_list() const;

 private:
  YAML::Node node_;
  std::string path_;
  int fallback_line_;
};

}  // namespace graphsim
