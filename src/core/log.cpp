#include "core/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <nlohmann/json.hpp>

namespace extdata::log {

namespace {

bool g_json = false;
std::mutex g_capture_mu;
std::string* g_capture = nullptr;

std::string render(std::string_view event, std::initializer_list<Field> fields) {
  if (g_json) {
    nlohmann::json j;
    j["event"] = std::string(event);
    for (const auto& f : fields)
      j[std::string(f.key)] = is_sensitive_key(f.key) ? std::string(kRedacted) : redact(f.value);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = redact(event);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    std::string v = is_sensitive_key(f.key) ? std::string(kRedacted) : redact(f.value);
    if (v.find_first_of(" \"=") != std::string::npos) {
      line += nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line += v;
    }
  }
  return line;
}

}  // namespace

void init(std::string_view level, std::string_view format) {
  g_json = format == "json";
  auto logger = spdlog::get("extdata");
  if (!logger) logger = spdlog::stderr_logger_mt("extdata");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(g_json ? "%v" : "%Y-%m-%dT%H:%M:%S.%e %l %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

void write(spdlog::level::level_enum level, std::string_view event,
           std::initializer_list<Field> fields) {
  std::string line = render(event, fields);
  {
    std::lock_guard lock(g_capture_mu);
    if (g_capture) {
      *g_capture += line;
      *g_capture += '\n';
    }
  }
  spdlog::log(level, "{}", line);
}

void capture_to(std::string* sink) {
  std::lock_guard lock(g_capture_mu);
  g_capture = sink;
}

}  // namespace extdata::log
