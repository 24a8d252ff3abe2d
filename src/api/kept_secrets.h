#pragma once
// Editing a stored source through the API: GET shows each secret as {"set": true}, and a
// caller who sends that back keeps the stored value. A stored secret stays bound to where it
// was entered for (config::secret_bindings: the request URL's origin, the token endpoint, the
// tenant, the authority, the credential type ...): kept while one of those changed, it is
// refused — the caller must enter the secret again — so an API token cannot redirect a
// secret it never saw to a host of its choosing.
//
//   auto kept = restore_kept_secrets(body, stored);      // before parsing the body
//   auto cfg = config::parse_source(body.dump(), name);
//   if (auto e = check_kept_secrets(kept, stored, *cfg)) return *e;   // 400
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace extdata::api {

// Replaces each {"set": true} at a stored secret's place in `document` by the stored value;
// returns the JSON pointers it replaced. `stored` null: nothing is replaced.
std::vector<std::string> restore_kept_secrets(nlohmann::json& document,
                                              const config::SourceConfig* stored);

// "config.secret_rebound" (400) naming the first kept secret and the binding setting that
// changed between `stored` and `edited`; nullopt when nothing was kept or nothing moved.
std::optional<Error> check_kept_secrets(const std::vector<std::string>& kept,
                                        const config::SourceConfig& stored,
                                        const config::SourceConfig& edited);

}  // namespace extdata::api
