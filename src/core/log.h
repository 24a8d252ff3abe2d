#pragma once
// Structured logging on spdlog. Every message passes through redact() so that
// credentials never reach a log sink, whoever wrote the log line.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "core/redact.h"

namespace extdata::log {

// level: trace|debug|info|warn|error|off; format: text|json. Logs go to stderr.
void init(std::string_view level = "info", std::string_view format = "text");

// key=value pairs appended to the message, values redacted when the key is sensitive.
struct Field {
  std::string_view key;
  std::string value;
};

void write(spdlog::level::level_enum level, std::string_view event,
           std::initializer_list<Field> fields = {});

inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(spdlog::level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(spdlog::level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(spdlog::level::err, event, fields);
}
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(spdlog::level::debug, event, fields);
}

// For tests: capture every formatted log line.
void capture_to(std::string* sink);

}  // namespace extdata::log
