#pragma once
// type: headers — any headers sent with every request, e.g. two API keys or a tenant
// header. Values are templates, compiled once:
//   {{env.NAME}}  an environment variable of the extdata process (read when the source is
//                 loaded; a missing variable is an error; never EXTDATA_MASTER_KEY). Only
//                 operator documents (`extdata apply`) may use it: the API refuses it
//                 (config::refuse_host_references, docs/security.md)
//   {{source}}    the source's name
//   {{uuid}}      a fresh random UUID per request (request IDs)
//   {{now}}       the request time, RFC 3339 UTC ("2026-11-28T14:05:00Z")
//   {{unix_time}} the request time in seconds since 1970
#include <variant>

#include "auth/credential.h"

namespace extdata::auth {

class HeaderTemplate {
 public:
  // `key` names the header in errors ("headers.X-Api-Key").
  static Result<HeaderTemplate> compile(std::string_view text, const std::string& key,
                                        const std::string& source_name);
  std::string render(Clock::time_point now) const;
  bool is_static() const { return dynamic_ == 0; }

 private:
  enum class Dynamic { uuid, now, unix_time };
  std::vector<std::variant<std::string, Dynamic>> parts_;
  int dynamic_ = 0;
};

class CustomHeadersCredential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  CustomHeadersCredential(std::vector<std::pair<std::string, HeaderTemplate>> headers,
                          Clock& clock);
  std::string_view type() const override { return "headers"; }
  Status apply(http::Request& request) override;
  Result<AuthReport> authenticate() override;

 private:
  std::vector<std::pair<std::string, HeaderTemplate>> headers_;
  Clock& clock_;
};

}  // namespace extdata::auth
