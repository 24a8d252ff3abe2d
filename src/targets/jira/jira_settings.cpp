// The settings table of the `jira-field-options` target (data only).
#include "config/catalog.h"
#include "config/schema.h"

namespace extdata::targets::target_types {

namespace s = config::settings;

namespace {

const config::Schema& jira_field_options_settings() {
  static const config::Schema schema{
      .name = "jira-field-options",
      .settings =
          {
              s::binds_secrets(
                  s::url("jira", "Jira base URL, e.g. https://contoso.atlassian.net", true),
                  config::SecretBinding::origin),
              s::object("auth", &config::auth_schema(),
                        "basic (Cloud: account e-mail + API token) or bearer (Data Center: a "
                        "personal access token)",
                        true),
              s::string("field_id", "The select field's id, e.g. customfield_10042", true),
              s::string("context_id",
                        "The field context whose options are managed; the field's global "
                        "context when absent"),
              s::choice("on_removed", {"disable", "delete", "keep"}, "disable",
                        "What happens to an option whose value left the field: disable (kept "
                        "on issues, not offered), delete, or keep"),
              s::duration("timeout", "Total time of one request to Jira", 60),
          },
      .check = [](const nlohmann::json& spec) -> config::Check {
        const auto type = spec.contains("auth") ? spec["auth"].value("type", "") : "";
        if (type != "basic" && type != "bearer")
          return std::make_pair(std::string("auth"),
                                "auth.type must be basic (e-mail + API token) or bearer (PAT) "
                                "for Jira, not '" + type + "'");
        return std::nullopt;
      }};
  return schema;
}

}  // namespace

const config::KindDecl& jira_field_options() {
  static const config::KindDecl decl{
      "jira-field-options", "Jira select field options",
      "Pushes a field's options into the options of a Jira select field's context (Jira REST "
      "API v3): creates, renames, disables or deletes, and re-enables them.",
      &jira_field_options_settings()};
  return decl;
}

}  // namespace extdata::targets::target_types
