#pragma once
// GraphSim: a local Entra ID token endpoint and Microsoft Graph (SharePoint lists)
// answering the way Microsoft does (docs/graphsim.md). `handle` is a pure
// Request → Response function so tests can call it without sockets; main.cpp puts
// it behind the shared HTTP server.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "crypto.h"
#include "faults.h"
#include "fixture.h"
#include "server/http_server.h"

namespace graphsim {

using extdata::server::Request;
using extdata::server::Response;

struct GraphSimOptions {
  extdata::Clock* clock = nullptr;            // default: the system clock
  std::optional<int> token_lifetime_seconds;  // overrides the fixture; default 3599
  std::shared_ptr<SigningKey> signing_key;    // default: a fresh RSA-2048 key
};

inline constexpr const char* kGraphResource = "https://graph.microsoft.com";
inline constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";

class GraphSim {
 public:
  static Result<std::unique_ptr<GraphSim>> create(Fixture fixture, GraphSimOptions options = {});

  Response handle(const Request& request);

  Faults faults() const;
  void set_faults(Faults faults);
  nlohmann::json counters() const;
  void reset_counters();

  const SigningKey& signing_key() const { return *signing_key_; }
  int token_lifetime_seconds() const { return token_lifetime_; }
  // Issues an access token as the token endpoint would (for tests of Graph authorization).
  std::string issue_access_token(const TenantSpec& tenant, const AppSpec& app,
                                 bool certificate_credential);
  const Fixture& fixture() const { return fixture_; }

  struct Context;  // per-request ids, base URL and time (internal.h)

 private:
  GraphSim(Fixture fixture, GraphSimOptions options, std::shared_ptr<SigningKey> key);

  struct FaultCounter {
    long long seen = 0;
    long long fired = 0;
  };
  struct TokenCounter {
    long long issued = 0;
    long long failed = 0;
    std::map<std::string, long long> errors;  // AADSTS code → count
  };

  Response handle_admin(const Request& request, Context& ctx);
  Response handle_token(const Request& request, Context& ctx, const std::string& tenant_segment);
  Response handle_graph(const Request& request, Context& ctx);

  // Fault bookkeeping (fault_mu_ held by callers).
  bool fire(const EveryN& config, FaultCounter& state);
  // The expire_token fault for a Graph request whose token passed every other check:
  // true when the token (key: its `uti`, else the whole token) is expired, already or by
  // this request. Takes fault_mu_.
  bool token_expired_by_fault(const std::string& token_key);

  extdata::Clock* clock_;
  std::shared_ptr<SigningKey> signing_key_;
  int token_lifetime_;

  // Fixture data: shared for reads, exclusive for admin mutations.
  mutable std::shared_mutex data_mu_;
  Fixture fixture_;

  mutable std::mutex fault_mu_;  // guards faults_, fault counters and all counters below
  Faults faults_;
  FaultCounter throttle_state_, drop_state_, truncate_state_, repeat_state_, token_error_state_,
      expire_token_state_;
  std::set<std::string> expired_tokens_;  // expire_token victims; cleared when faults are replaced
  std::map<std::string, TokenCounter> token_counters_;
  std::map<std::string, long long> graph_by_route_;
  std::map<std::string, long long> graph_by_target_;
  std::map<std::string, long long> graph_by_status_;
  long long graph_total_ = 0;
  std::map<std::string, long long> throttled_by_status_;
  long long throttled_total_ = 0;
  std::map<std::string, long long> fault_counts_;

  friend struct GraphRoutes;
  friend struct TokenEndpoint;
};

}  // namespace graphsim
