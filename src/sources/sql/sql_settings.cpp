#include "sources/sql/sql_settings.h"

namespace extdata::sources::sql {

namespace s = config::settings;
using config::Kind;

namespace {

const config::Schema& variable_settings() {
  static const config::Schema table{
      .name = "variables.NAME",
      .settings = {
          s::string("default", "Value when the caller gives none"),
          s::boolean("required", "Fail when no value is given (otherwise NULL is bound)", false),
          s::string("description", "Shown in the UI"),
      }};
  return table;
}

config::Setting required(config::Setting st) {
  st.required = true;
  return st;
}

config::Check check(const nlohmann::json& j) {
  const std::string driver = j.value("driver", "");
  if (driver == "sqlite" && !j.contains("path"))
    return std::make_pair("path", "driver sqlite needs path (the database file)");
  if (driver != "sqlite" && !j.contains("connection"))
    return std::make_pair("connection", "driver " + driver + " needs connection");
  return std::nullopt;
}

}  // namespace

const config::Schema& sql_settings() {
  static const config::Schema table{
      .name = "sql",
      .settings =
          {
              required(s::choice("driver", {"postgres", "mysql", "sqlite", "odbc"}, "",
                                 "Database driver: postgres (libpq), mysql (MariaDB/MySQL), sqlite "
                                 "(a file, read-only) or odbc (unixODBC: SQL Server, Oracle …)")),
              // The password goes where the connection says: a changed connection needs it
              // entered again.
              s::binds_secrets(
                  s::string("connection",
                            "Where to connect, without the password: a URL "
                            "(postgresql://app@db.example.com:5432/crm?sslmode=verify-full, "
                            "mysql://app@db:3306/shop) or, for odbc, a DSN or connection string "
                            "(DSN=crm or Driver=...;Server=...)"),
                  config::SecretBinding::value),
              s::secret("password", "Password of the connection's user"),
              s::choice("sslmode",
                        {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, "",
                        "TLS: require encrypts, verify-ca also checks the CA (ca_bundle), "
                        "verify-full also the host name (postgres; mysql up to verify-ca)"),
              s::duration("connect_timeout", "How long connecting may take", 10),
              s::duration("statement_timeout", "How long the query may run", 30),
              s::string("path", "Database file (driver sqlite), opened read-only"),
              s::string("query",
                        "One read-only statement; :name parameters are bound from variables by "
                        "the driver, e.g. SELECT id, name FROM customers WHERE country = "
                        ":country",
                        true),
              {.name = "variables",
               .kind = Kind::object_map,
               .description = "Declared parameters of the query: name → {default, required}",
               .object = &variable_settings()},
              s::integer("max_records",
                         "More rows than this is an error (sql.too_many_rows), never a silent cut",
                         100000, 1, 1e8),
              s::integer("pool_size", "Connections kept open at most", 4, 1, 64),
          },
      .check = check};
  return table;
}

}  // namespace extdata::sources::sql
