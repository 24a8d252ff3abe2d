#pragma once
// Several instances on one store (docs/scaling.md): the token cache shared through the store
// (sealed there, one token request per credential across instances) and this process's id as
// a lease holder.
#include <memory>
#include <string>

#include "auth/oauth2/token_cache.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "store/store.h"

namespace extdata::api {

class StoreTokens final : public auth::SharedTokens {
 public:
  // The lease on "token:<key>" lasts `lead_ttl`: a killed instance blocks the others that long.
  StoreTokens(store::Store& store, Clock& clock, Metrics& metrics, std::string holder,
              std::chrono::milliseconds lead_ttl = std::chrono::seconds(10))
      : store_(store),
        clock_(clock),
        metrics_(metrics),
        holder_(std::move(holder)),
        lead_ttl_(lead_ttl) {}

  std::optional<auth::Token> find(const std::string& key) override;
  void publish(const std::string& key, const auth::Token& token) override;
  void drop(const std::string& key, const std::string& access_token) override;
  bool lead(const std::string& key) override;
  void end_lead(const std::string& key) override;

 private:
  store::Store& store_;
  Clock& clock_;
  Metrics& metrics_;
  const std::string holder_;
  const std::chrono::milliseconds lead_ttl_;
};

// "host:pid:random": unique per process, so a restarted instance never renews a lease of its
// previous life.
std::string new_instance_id();

}  // namespace extdata::api
