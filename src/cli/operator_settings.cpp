#include "cli/operator_settings.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "cli/files_options.h"
#include "cli/network_options.h"
#include "core/log.h"
#include "sources/file/files_root.h"

namespace extdata::cli {

namespace {

constexpr size_t kMaxSettingsBytes = 64 * 1024;

Error settings_error(const std::string& path, size_t line, const std::string& what) {
  return Error("settings.file", path + (line ? ":" + std::to_string(line) : "") + ": " + what,
               "fix the file and reload again (systemctl reload extdata); the current settings "
               "stay in force");
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool valid_key(const std::string& key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string value_or_empty(const SettingsFile& file, const std::string& key) {
  auto it = file.values.find(key);
  return it == file.values.end() ? std::string() : it->second;
}

}  // namespace

Result<SettingsFile> read_settings_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return settings_error(path, 0, "cannot be read");
  std::string text(kMaxSettingsBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxSettingsBytes) return settings_error(path, 0, "is larger than 64 KB");
  SettingsFile out;
  std::istringstream lines(text);
  std::string line;
  size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos)
      return settings_error(path, number, "expected VARIABLE=VALUE, got '" + line.substr(0, 80) + "'");
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key.rfind("export ", 0) == 0) key = trim(key.substr(7));
    if (!valid_key(key))
      return settings_error(path, number, "'" + key.substr(0, 80) + "' is not a variable name");
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    out.values[key] = value;
  }
  return out;
}

Result<std::string> reload_operator_settings(const std::string& path, const RunningServer& server) {
  EXTDATA_ASSIGN_OR_RETURN(SettingsFile file, read_settings_file(path));
  // Everything is built first; only then installed (all or nothing).
  auto policy = operator_network_policy(value_or_empty(file, "EXTDATA_ALLOW_HOSTS"));
  if (!policy.ok())
    return settings_error(path, 0, "EXTDATA_ALLOW_HOSTS: " + policy.error().message);
  auto roots = operator_files_roots(value_or_empty(file, "EXTDATA_FILES_ROOT"));
  if (!roots.ok()) return settings_error(path, 0, "EXTDATA_FILES_ROOT: " + roots.error().message);
  std::string level = value_or_empty(file, "EXTDATA_LOG_LEVEL");
  if (level.empty()) level = "info";
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels))
    return settings_error(path, 0, "EXTDATA_LOG_LEVEL: '" + level + "' is not a log level");

  http::NetworkPolicy::set_process(
      std::make_shared<const http::NetworkPolicy>(std::move(policy).value()));
  refuse_own_address(server.url);
  sources::FilesRoots::set_process(
      std::make_shared<const sources::FilesRoots>(std::move(roots).value()));
  log::init(level, server.log_format);

  std::string summary = "allowed hosts: " +
                        (value_or_empty(file, "EXTDATA_ALLOW_HOSTS").empty()
                             ? std::string("public addresses only")
                             : value_or_empty(file, "EXTDATA_ALLOW_HOSTS")) +
                        "; files roots: " +
                        (value_or_empty(file, "EXTDATA_FILES_ROOT").empty()
                             ? std::string("none")
                             : value_or_empty(file, "EXTDATA_FILES_ROOT")) +
                        "; log level: " + level;
  const std::string listen = value_or_empty(file, "EXTDATA_LISTEN");
  if (!listen.empty() && listen != server.listen)
    summary += "; EXTDATA_LISTEN changed to " + listen + ": takes effect after a restart";
  const std::string data = value_or_empty(file, "EXTDATA_DATA");
  if (!data.empty() && data != server.data_dir)
    summary += "; EXTDATA_DATA changed to " + data + ": takes effect after a restart";
  return summary;
}

}  // namespace extdata::cli
