#include "api/store_tokens.h"

#include <sodium.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace extdata::api {

namespace {

std::int64_t unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Clock::time_point from_unix_ms(std::int64_t ms) {
  return Clock::time_point{std::chrono::milliseconds{ms}};
}

std::string lease_name(const std::string& key) {
  return "token:" + key;
}

}  // namespace

std::optional<auth::Token> StoreTokens::find(const std::string& key) {
  auto found = store_.get_shared_token(key, unix_ms(clock_.now()));
  if (!found.ok()) {
    log::warn("cluster.token_read_failed", {{"error", found.error().to_string()}});
    return std::nullopt;
  }
  if (!found->has_value()) return std::nullopt;
  const auto j = nlohmann::json::parse((*found)->payload, nullptr, false);
  if (!j.is_object() || !j.contains("access_token")) return std::nullopt;
  auth::Token token;
  token.access_token = j.value("access_token", "");
  token.token_type = j.value("token_type", "Bearer");
  token.scope = j.value("scope", "");
  token.obtained_at = from_unix_ms(j.value("obtained_at_ms", std::int64_t{0}));
  token.expires_at = from_unix_ms((*found)->expires_at_ms);
  return token;
}

void StoreTokens::publish(const std::string& key, const auth::Token& token) {
  const nlohmann::json payload = {{"access_token", token.access_token},
                                  {"token_type", token.token_type},
                                  {"scope", token.scope},
                                  {"obtained_at_ms", unix_ms(token.obtained_at)}};
  auto put = store_.put_shared_token(key, {payload.dump(), unix_ms(token.expires_at)});
  if (!put.ok()) log::warn("cluster.token_write_failed", {{"error", put.error().to_string()}});
}

void StoreTokens::drop(const std::string& key, const std::string& access_token) {
  // The payload is compared whole: rebuild it as publish wrote it, from the stored token.
  auto stored = store_.get_shared_token(key, unix_ms(clock_.now()));
  if (!stored.ok() || !stored->has_value()) return;
  const auto j = nlohmann::json::parse((*stored)->payload, nullptr, false);
  if (!j.is_object() || j.value("access_token", "") != access_token) return;
  (void)store_.drop_shared_token(key, (*stored)->payload);
}

bool StoreTokens::lead(const std::string& key) {
  auto lease =
      store_.acquire_lease(lease_name(key), holder_, unix_ms(clock_.now()), lead_ttl_.count());
  if (!lease.ok()) {
    log::warn("cluster.lease_failed", {{"error", lease.error().to_string()}});
    return true;  // without the store, each instance asks for itself
  }
  if (!lease->has_value()) return false;
  metrics_
      .counter("extdata_cluster_lease_acquired_total", {{"purpose", "token"}},
               "Store leases this instance took: sync (one upstream sync per key across "
               "instances) and token (one token request per credential)")
      .inc();
  return true;
}

void StoreTokens::end_lead(const std::string& key) {
  (void)store_.release_lease(lease_name(key), holder_);
}

std::string new_instance_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  unsigned char raw[6];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + hex;
}

}  // namespace extdata::api
