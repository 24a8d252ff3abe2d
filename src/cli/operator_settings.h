#pragma once
// The operator settings a running server re-reads when it gets SIGHUP (`systemctl reload
// extdata`): the file EXTDATA_SETTINGS_FILE names, in the format of systemd's EnvironmentFile
// (the package's /etc/extdata/extdata.env): KEY=VALUE lines, '#' comments, values optionally in
// double or single quotes.
//
// Reloaded: EXTDATA_ALLOW_HOSTS (plus the --allow-host flags of the start; the server's own
// address stays refused), EXTDATA_FILES_ROOT (plus --files-root flags) and EXTDATA_LOG_LEVEL. A
// key that needs a restart (EXTDATA_LISTEN, EXTDATA_DATA, the master key) is named in the log
// when it differs from what the server started with. A reload is all or nothing: an invalid
// value keeps every current setting and logs the error with its line.
#include <map>
#include <string>

#include "core/error.h"

namespace extdata::cli {

struct SettingsFile {
  std::map<std::string, std::string> values;
};

// Errors ("settings.file") name the file and the line. At most 64 KB.
Result<SettingsFile> read_settings_file(const std::string& path);

struct RunningServer {
  std::string url;         // refused by the network policy
  std::string listen;      // what it listens on, to tell a changed EXTDATA_LISTEN
  std::string data_dir;    // to tell a changed EXTDATA_DATA
  std::string log_format;  // kept across a reload
};

// Re-reads the file and installs its settings; returns what changed, in words, for the log.
Result<std::string> reload_operator_settings(const std::string& path, const RunningServer& server);

}  // namespace extdata::cli
