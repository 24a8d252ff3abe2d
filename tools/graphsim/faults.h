#pragma once
// Faults on demand: throttling, latency, dropped connections, truncated bodies,
// looping nextLinks, a failing or hanging token endpoint and tokens expiring mid-sync. Each fault
// fires on every Nth eligible request (`every`), at most `times` times (0 = no limit).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

#include "core/error.h"
#include "yaml_reader.h"

namespace graphsim {

struct EveryN {
  int every = 0;  // 0 = off, 1 = every request, 3 = every third ...
  int times = 0;  // 0 = unlimited
};

struct ThrottleFault : EveryN {
  int status = 429;  // 429 or 503
  // Sent verbatim as Retry-After ("2", "2.128"); nullopt = header absent.
  std::optional<std::string> retry_after = std::string("1");
  std::string scope = "graph";  // graph | token | all
};

struct DropConnectionFault : EveryN {
  size_t after_bytes = 64;  // body bytes sent before the connection closes
};

struct TruncateBodyFault : EveryN {
  size_t bytes = 64;  // the body is cut to this many bytes (Content-Length matches)
};

struct TokenErrorFault : EveryN {
  int status = 500;
};

struct Faults {
  ThrottleFault throttle;
  int latency_ms = 0;  // added to every Graph and token response
  DropConnectionFault drop_connection;
  TruncateBodyFault truncate_body;
  EveryN repeat_next_link;  // items/delta pages whose nextLink points at the page just served
  TokenErrorFault token_error;
  int token_hang_ms = 0;  // the token endpoint waits this long before answering
  // Graph requests with an otherwise valid token: the token (by `uti`) expires for good and
  // this and every later request with it get Graph's 401 for an expired token.
  EveryN expire_token;
};

extdata::Result<Faults> parse_faults(const YamlReader& node);
nlohmann::json faults_to_json(const Faults& faults);

}  // namespace graphsim
