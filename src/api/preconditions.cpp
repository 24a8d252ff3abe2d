#include "api/preconditions.h"

namespace extdata::api {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

Error bad_precondition(const std::string& header, const std::string& why) {
  return Error("api.bad_precondition", header + ": " + why,
               "Send If-None-Match: * to create, If-Match: \"<ETag of GET>\" to replace that "
               "version, or neither to create or replace.");
}

// The opaque tags of an If-Match list ("a", W/"b"); weak ones are dropped, as they never
// match strongly. Nothing else is accepted.
Result<std::vector<std::string>> strong_tags(const std::string& value) {
  std::vector<std::string> tags;
  size_t i = 0;
  bool any = false;
  for (;;) {
    while (i < value.size() && (is_space(value[i]) || value[i] == ',')) ++i;
    if (i == value.size()) break;
    const bool weak = value.compare(i, 2, "W/") == 0;
    if (weak) i += 2;
    if (i >= value.size() || value[i] != '"')
      return bad_precondition("If-Match", "an entity tag must be quoted, like \"42\"");
    const size_t end = value.find('"', i + 1);
    if (end == std::string::npos)
      return bad_precondition("If-Match", "an entity tag is not closed by a quote");
    if (!weak) tags.push_back(value.substr(i + 1, end - i - 1));
    any = true;
    i = end + 1;
  }
  if (!any) return bad_precondition("If-Match", "no entity tag");
  return tags;
}

std::string trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string etag_of(const std::string& version) {
  return "\"" + version + "\"";
}

Result<store::Expect> expect_of(const server::Request& req, AllowNoneMatch none_match) {
  const auto match = req.header("If-Match");
  const auto none = req.header("If-None-Match");
  if (match && none)
    return bad_precondition("If-Match and If-None-Match", "send one of them, not both");
  if (none) {
    if (none_match == AllowNoneMatch::no)
      return bad_precondition("If-None-Match", "not supported on " + req.method);
    if (trimmed(*none) != "*")
      return bad_precondition("If-None-Match", "only * (create, never replace) is supported");
    return store::Expect::absent();
  }
  if (!match) return store::Expect{};
  if (trimmed(*match) == "*") return store::Expect{store::Expect::Kind::present, {}};
  EXTDATA_ASSIGN_OR_RETURN(auto tags, strong_tags(*match));
  return store::Expect::one_of(std::move(tags));
}

Error with_current_etag(Error e) {
  if (auto it = e.details.find("current_version"); it != e.details.end())
    e.with("current_etag", etag_of(it->second));
  return e;
}

}  // namespace extdata::api
