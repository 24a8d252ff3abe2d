#include "faults.h"

#include <charconv>
#include <cmath>

namespace graphsim {

using extdata::Result;
using extdata::Status;

namespace {

Status read_every(const YamlReader& node, EveryN& out) {
  EXTDATA_ASSIGN_OR_RETURN(long long every, node["every"].integer_or(0));
  EXTDATA_ASSIGN_OR_RETURN(long long times, node["times"].integer_or(0));
  if (every < 0) return node["every"].error("must be 0 (off) or a positive count");
  if (times < 0) return node["times"].error("must be 0 (unlimited) or a positive count");
  out.every = static_cast<int>(every);
  out.times = static_cast<int>(times);
  return {};
}

nlohmann::json every_json(const EveryN& e) {
  return {{"every", e.every}, {"times", e.times}};
}

}  // namespace

Result<Faults> parse_faults(const YamlReader& node) {
  Faults faults;
  if (!node.present()) return faults;
  EXTDATA_TRY(node.expect_map());
  EXTDATA_TRY(node.only_keys({"throttle", "latency_ms", "drop_connection", "truncate_body",
                              "repeat_next_link", "token_error", "token_hang_ms", "expire_token"}));

  if (auto t = node["throttle"]; t.present()) {
    EXTDATA_TRY(t.expect_map());
    EXTDATA_TRY(t.only_keys({"every", "times", "status", "retry_after", "scope"}));
    EXTDATA_TRY(read_every(t, faults.throttle));
    EXTDATA_ASSIGN_OR_RETURN(long long status, t["status"].integer_or(429));
    if (status != 429 && status != 503) return t["status"].error("must be 429 or 503");
    faults.throttle.status = static_cast<int>(status);
    auto ra = t["retry_after"];
    if (ra.node().IsDefined() && ra.node().IsNull()) {
      faults.throttle.retry_after.reset();
    } else if (ra.present()) {
      EXTDATA_ASSIGN_OR_RETURN(std::string text, ra.string());
      double seconds = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (ec != std::errc() || end != text.data() + text.size() || seconds < 0 ||
          !std::isfinite(seconds)) {
        return ra.error("expected seconds such as 2 or 2.128 (or null for no header), got '" +
                        text + "'");
      }
      faults.throttle.retry_after = text;
    }
    EXTDATA_ASSIGN_OR_RETURN(faults.throttle.scope, t["scope"].string_or("graph"));
    if (faults.throttle.scope != "graph" && faults.throttle.scope != "token" &&
        faults.throttle.scope != "all") {
      return t["scope"].error("must be graph, token or all");
    }
  }
  EXTDATA_ASSIGN_OR_RETURN(long long latency, node["latency_ms"].integer_or(0));
  if (latency < 0) return node["latency_ms"].error("must not be negative");
  faults.latency_ms = static_cast<int>(latency);

  if (auto d = node["drop_connection"]; d.present()) {
    EXTDATA_TRY(d.expect_map());
    EXTDATA_TRY(d.only_keys({"every", "times", "after_bytes"}));
    EXTDATA_TRY(read_every(d, faults.drop_connection));
    EXTDATA_ASSIGN_OR_RETURN(long long bytes, d["after_bytes"].integer_or(64));
    if (bytes < 0) return d["after_bytes"].error("must not be negative");
    faults.drop_connection.after_bytes = static_cast<size_t>(bytes);
  }
  if (auto tr = node["truncate_body"]; tr.present()) {
    EXTDATA_TRY(tr.expect_map());
    EXTDATA_TRY(tr.only_keys({"every", "times", "bytes"}));
    EXTDATA_TRY(read_every(tr, faults.truncate_body));
    EXTDATA_ASSIGN_OR_RETURN(long long bytes, tr["bytes"].integer_or(64));
    if (bytes < 0) return tr["bytes"].error("must not be negative");
    faults.truncate_body.bytes = static_cast<size_t>(bytes);
  }
  if (auto r = node["repeat_next_link"]; r.present()) {
    EXTDATA_TRY(r.expect_map());
    EXTDATA_TRY(r.only_keys({"every", "times"}));
    EXTDATA_TRY(read_every(r, faults.repeat_next_link));
  }
  if (auto te = node["token_error"]; te.present()) {
    EXTDATA_TRY(te.expect_map());
    EXTDATA_TRY(te.only_keys({"every", "times", "status"}));
    EXTDATA_TRY(read_every(te, faults.token_error));
    EXTDATA_ASSIGN_OR_RETURN(long long status, te["status"].integer_or(500));
    if (status < 500 || status > 599) return te["status"].error("must be a 5xx status");
    faults.token_error.status = static_cast<int>(status);
  }
  EXTDATA_ASSIGN_OR_RETURN(long long hang, node["token_hang_ms"].integer_or(0));
  if (hang < 0) return node["token_hang_ms"].error("must not be negative");
  faults.token_hang_ms = static_cast<int>(hang);
  if (auto e = node["expire_token"]; e.present()) {
    EXTDATA_TRY(e.expect_map());
    EXTDATA_TRY(e.only_keys({"every", "times"}));
    EXTDATA_TRY(read_every(e, faults.expire_token));
  }
  return faults;
}

nlohmann::json faults_to_json(const Faults& f) {
  nlohmann::json throttle = every_json(f.throttle);
  throttle["status"] = f.throttle.status;
  throttle["retry_after"] =
      f.throttle.retry_after ? nlohmann::json(*f.throttle.retry_after) : nlohmann::json(nullptr);
  throttle["scope"] = f.throttle.scope;
  nlohmann::json drop = every_json(f.drop_connection);
  drop["after_bytes"] = f.drop_connection.after_bytes;
  nlohmann::json truncate = every_json(f.truncate_body);
  truncate["bytes"] = f.truncate_body.bytes;
  nlohmann::json token_error = every_json(f.token_error);
  token_error["status"] = f.token_error.status;
  return {{"throttle", throttle},
          {"latency_ms", f.latency_ms},
          {"drop_connection", drop},
          {"truncate_body", truncate},
          {"repeat_next_link", every_json(f.repeat_next_link)},
          {"token_error", token_error},
          {"token_hang_ms", f.token_hang_ms},
          {"expire_token", every_json(f.expire_token)}};
}

}  // namespace graphsim
