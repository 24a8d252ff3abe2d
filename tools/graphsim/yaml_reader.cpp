#include "yaml_reader.h"

#include <charconv>
#include <cmath>

namespace graphsim {

using extdata::Error;
using extdata::Result;
using extdata::Status;

int YamlReader::line() const {
  if (node_.IsDefined()) {
    int l = node_.Mark().line;
    if (l >= 0) return l + 1;
  }
  return fallback_line_;
}

Error YamlReader::error(const std::string& message, const std::string& hint) const {
  std::string where = path_.empty() ? "fixture" : path_;
  int l = line();
  if (l > 0) where += " (line " + std::to_string(l) + ")";
  return Error("graphsim.fixture", where + ": " + message, hint);
}

YamlReader YamlReader::operator[](const std::string& key) const {
  std::string child_path = path_.empty() ? key : path_ + "." + key;
  if (!node_.IsMap()) return YamlReader(YAML::Node(YAML::NodeType::Undefined), child_path, line());
  return YamlReader(node_[key], child_path, line());
}

YamlReader YamlReader::at(size_t index) const {
  return YamlReader(node_[index], path_ + "[" + std::to_string(index) + "]", line());
}

Status YamlReader::expect_map() const {
  if (!node_.IsMap()) return error("expected a mapping (key: value)");
  return {};
}

Status YamlReader::expect_sequence() const {
  if (!node_.IsSequence()) return error("expected a list");
  return {};
}

Status YamlReader::only_keys(std::initializer_list<const char*> allowed) const {
  if (!node_.IsMap()) return {};
  for (const auto& entry : node_) {
    std::string key = entry.first.Scalar();
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      std::string child = path_.empty() ? key : path_ + "." + key;
      return YamlReader(entry.first, child, line())
          .error("unknown key '" + key + "'", "known keys here: " + list);
    }
  }
  return {};
}

Result<std::string> YamlReader::string() const {
  if (!present()) return error("required value is missing");
  if (!node_.IsScalar()) return error("expected a single value, not a list or mapping");
  return node_.Scalar();
}

Result<std::string> YamlReader::string_or(const std::string& fallback) const {
  if (!present()) return fallback;
  return string();
}

Result<long long> YamlReader::integer() const {
  EXTDATA_ASSIGN_OR_RETURN(std::string text, string());
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return error("expected an integer, got '" + text + "'");
  }
  return value;
}

Result<long long> YamlReader::integer_or(long long fallback) const {
  if (!present()) return fallback;
  return integer();
}

Result<double> YamlReader::number() const {
  EXTDATA_ASSIGN_OR_RETURN(std::string text, string());
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return error("expected a number, got '" + text + "'");
  }
  return value;
}

Result<bool> YamlReader::boolean() const {
  EXTDATA_ASSIGN_OR_RETURN(std::string text, string());
  if (text == "true" || text == "True" || text == "TRUE" || text == "yes") return true;
  if (text == "false" || text == "False" || text == "FALSE" || text == "no") return false;
  return error("expected true or false, got '" + text + "'");
}

Result<bool> YamlReader::boolean_or(bool fallback) const {
  if (!present()) return fallback;
  return boolean();
}

Result<std::vector<std::string>> YamlReader::string_list() const {
  std::vector<std::string> out;
  if (!present()) return out;
  EXTDATA_TRY(expect_sequence());
  for (size_t i = 0; i < node_.size(); ++i) {
    EXTDATA_ASSIGN_OR_RETURN(std::string s, at(i).string());
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace graphsim
