#include "sources/file/file_settings.h"

namespace extdata::sources {

namespace s = config::settings;

const config::Schema& file_settings() {
  static const config::Schema table{
      .name = "file",
      .settings =
          {
              s::string("path",
                        "File to read, under a directory the operator allows with --files-root "
                        "or EXTDATA_FILES_ROOT; a relative path starts at the first of them"),
              s::binds_secrets(s::url("url", "Or the http(s) URL of the file"),
                               config::SecretBinding::origin),
              s::object("auth", &config::auth_schema(), "Credentials for url"),
              s::map("headers", "Request headers for url"),
              s::choice("format", {"json", "xml", "csv", "auto"}, "auto",
                        "File format; auto goes by the extension (or Content-Type), then the "
                        "first byte"),
              s::string("records", "Expression selecting the records (JSONPath, XPath for xml)"),
              s::map("namespaces", "XML namespace prefixes for XPath"),
              s::string("delimiter", "CSV delimiter (, ; or tab); detected when absent"),
              s::integer("max_records", "Keep at most this many records (a warning says so)",
                         1000000, 1, 1e9),
          },
      .check = [](const nlohmann::json& j) -> config::Check {
        if (j.contains("path") == j.contains("url"))
          return std::make_pair(j.contains("path") ? "url" : "path",
                                "a file source needs exactly one of path and url");
        if (j.contains("path") && (j.contains("auth") || j.contains("headers")))
          return std::make_pair(j.contains("auth") ? "auth" : "headers",
                                "auth and headers apply to url only, not to a local path");
        return std::nullopt;
      }};
  return table;
}

}  // namespace extdata::sources
