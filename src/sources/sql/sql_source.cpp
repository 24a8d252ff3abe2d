#include "sources/sql/sql_source.h"

#include <chrono>

#include "core/redact.h"
#include "extract/json_text.h"
#include "sources/common/report.h"
#include "sources/common/transport.h"
#include "sources/sql/drivers.h"
#include "sources/sql/pool.h"
#include "sources/sql/row_writer.h"
#include "sources/sql/sql_query.h"
#include "sources/sql/sql_settings.h"

namespace extdata::sources::sql {

namespace {

using Records = std::shared_ptr<const extract::RecordSet>;
using Ms = std::chrono::milliseconds;

struct Variable {
  std::optional<std::string> default_value;
  bool required = false;
};

Ms millis(const nlohmann::json& spec, const char* key, double fallback) {
  return Ms(static_cast<long long>(spec.value(key, fallback) * 1000));
}

// `columns`: name → a JSONPath from the row ($.a.b) or a column name of the result.
Result<std::vector<extract::ColumnSpec>> compile_columns(const nlohmann::json& spec) {
  std::vector<extract::ColumnSpec> out;
  auto cols = spec.find("columns");
  if (cols == spec.end() || !cols->is_object()) return out;
  for (const auto& [name, expr] : cols->items()) {
    std::string text = expr.get<std::string>();
    if (text.empty() || text.front() != '$') {
      std::string path = "$[";
      extract::append_json_string(path, text);
      text = path + "]";
    }
    auto path = extract::JsonPath::compile(text);
    if (!path.ok())
      return setting_error("source.jsonpath", "columns." + name,
                           "columns." + name + ": " + path.error().message, path.error().hint);
    out.push_back({name, std::move(path).value()});
  }
  return out;
}

class SqlSource final : public Source {
 public:
  static Result<std::shared_ptr<Source>> create(const config::SourceConfig& config,
                                                const SourceDeps& deps);

  const config::SourceConfig& config() const override { return config_; }
  std::shared_ptr<auth::Credential> credential() const override { return nullptr; }
  std::vector<std::string> variable_names() const override {
    std::vector<std::string> out;
    for (const auto& [name, v] : variables_) out.push_back(name);
    return out;
  }

  Result<Records> fetch(const FetchRequest& request, FetchTrace* trace) override {
    return count_fetch(metrics_, config_.name, [&] { return run(request, trace); });
  }

  // Runs `query` (already in the driver's placeholders) with `parameters`; for the catalog
  // commands as for fetches.
  Result<Records> run_query(const ParsedQuery& query, const std::vector<Parameter>& parameters,
                            size_t max_rows, FetchTrace* trace);

  Dialect dialect() const { return pool_->driver().dialect(); }
  Driver& driver() const { return pool_->driver(); }

 private:
  SqlSource(config::SourceConfig config, const SourceDeps& deps)
      : config_(std::move(config)), metrics_(deps.metrics) {}

  Result<Records> run(const FetchRequest& request, FetchTrace* trace);
  Result<std::vector<Parameter>> bind(const Variables& values) const;
  std::string shown(const ParsedQuery& query, const std::vector<Parameter>& parameters) const;

  config::SourceConfig config_;
  Metrics& metrics_;
  std::unique_ptr<Pool> pool_;
  ParsedQuery query_;
  std::map<std::string, Variable> variables_;
  std::vector<extract::ColumnSpec> columns_;
  size_t max_records_ = 100000;
};

Result<std::shared_ptr<Source>> SqlSource::create(const config::SourceConfig& config,
                                                  const SourceDeps& deps) {
  std::shared_ptr<SqlSource> src(new SqlSource(config, deps));
  const nlohmann::json& spec = src->config_.spec;
  DriverOptions options{.connect_timeout = millis(spec, "connect_timeout", 10),
                        .statement_timeout = millis(spec, "statement_timeout", 30)};
  EXTDATA_ASSIGN_OR_RETURN(std::unique_ptr<Driver> driver, make_driver(spec, options));
  EXTDATA_ASSIGN_OR_RETURN(src->query_, parse_query(spec_text(spec, "query"), driver->dialect()));
  if (auto vars = spec.find("variables"); vars != spec.end() && vars->is_object()) {
    for (const auto& [name, v] : vars->items()) {
      Variable var;
      if (v.contains("default") && v["default"].is_string()) var.default_value = v["default"];
      var.required = v.value("required", false);
      src->variables_[name] = var;
    }
  }
  for (const auto& name : src->query_.names)
    if (!src->variables_.count(name))
      return setting_error("sql.undeclared_parameter", "query",
                           "query uses :" + name + " but variables does not declare it",
                           "declare it: variables: {" + name +
                               ": {required: true}} (or a default); a ':' that is not a "
                               "parameter belongs in a string literal");
  for (const auto& [name, v] : src->variables_)
    if (!src->query_.names.count(name))
      return setting_error(
          "sql.unused_variable", "variables." + name,
          "variable " + name + " is declared but the query does not use :" + name,
          "use it in the query (WHERE column = :" + name + ") or remove the declaration");
  EXTDATA_ASSIGN_OR_RETURN(src->columns_, compile_columns(spec));
  src->max_records_ = spec.value("max_records", 100000);
  const size_t pool_size = spec.value("pool_size", 4);
  src->pool_ = std::make_unique<Pool>(std::move(driver), pool_size,
                                      options.connect_timeout + options.statement_timeout);
  return std::shared_ptr<Source>(std::move(src));
}

Result<std::vector<Parameter>> SqlSource::bind(const Variables& values) const {
  std::vector<Parameter> out;
  for (const auto& name : query_.parameters) {
    if (auto it = values.find(name); it != values.end()) {
      out.emplace_back(it->second);
      continue;
    }
    const Variable& v = variables_.at(name);
    if (v.default_value) {
      out.emplace_back(*v.default_value);
    } else if (v.required) {
      return Error(
                 "source.variable_missing",
                 "missing required variable '" + name + "' (parameter :" + name + " of the query)",
                 "pass it (--var " + name +
                     "=VALUE, a field's context or the API's variables), or declare a default")
          .with("variable", name)
          .with("key", "query");
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

// The query and what each placeholder is bound to, values redacted: for `source test`.
std::string SqlSource::shown(const ParsedQuery& query,
                             const std::vector<Parameter>& parameters) const {
  std::string out = query.text;
  for (size_t i = 0; i < parameters.size() && i < query.parameters.size(); ++i) {
    out += i ? ", " : "  with ";
    out += dialect() == Dialect::postgres ? "$" + std::to_string(i + 1) + " = " : "";
    out += ":" + query.parameters[i] + " = ";
    out += parameters[i] ? nlohmann::json(redact(*parameters[i])).dump() : "NULL";
  }
  return out;
}

Result<Records> SqlSource::run_query(const ParsedQuery& query,
                                     const std::vector<Parameter>& parameters, size_t max_rows,
                                     FetchTrace* trace) {
  Pool::Use use;
  Records records;
  double query_ms = 0;
  Status s = pool_->run(
      [&](Connection& c) -> Status {
        const auto started = std::chrono::steady_clock::now();
        RowWriter writer(max_rows, &columns_);
        Status ran = c.run(query.text, parameters, writer);
        query_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        if (!ran.ok()) return ran;
        EXTDATA_ASSIGN_OR_RETURN(records, writer.finish());
        return ok_status();
      },
      &use);
  if (trace) {
    StepTrace connect{.step = "connect", .method = "SQL", .url = driver().describe()};
    connect.elapsed_ms = use.connect_ms;
    connect.attempts = use.reconnected ? 2 : 1;
    connect.response_preview = !use.connected                   ? ""
                               : use.reused && !use.reconnected ? "pooled connection"
                               : use.reconnected                ? "reconnected after the server "
                                                                  "closed the pooled connection"
                                                                : "new connection";
    trace->steps.push_back(std::move(connect));
    if (!use.connected) return s.error();  // the connect step is the failed one
    StepTrace q{.step = "query", .method = "SQL", .url = shown(query, parameters)};
    q.elapsed_ms = query_ms;
    if (records) q.response_preview = std::to_string(records->size()) + " rows";
    trace->steps.push_back(std::move(q));
    trace->pages = records ? 1 : 0;
  }
  if (!s.ok()) return s.error();
  return records;
}

Result<Records> SqlSource::run(const FetchRequest& request, FetchTrace* trace) {
  EXTDATA_ASSIGN_OR_RETURN(std::vector<Parameter> parameters, bind(request.variables));
  auto records = run_query(query_, parameters, max_records_, trace);
  if (records.ok() && request.on_progress) request.on_progress({1, (*records)->size()});
  return records;
}

Result<std::shared_ptr<Source>> make_sql_source(const config::SourceConfig& config,
                                                const SourceDeps& deps) {
  return SqlSource::create(config, deps);
}

Result<SqlSource*> as_sql(Source& source) {
  auto* sql = dynamic_cast<SqlSource*>(&source);
  if (!sql)
    return Error("sql.not_sql", "source '" + source.config().name + "' is of type " +
                                    source.config().type + ", not sql");
  return sql;
}

constexpr size_t kCatalogRows = 100000;

}  // namespace

Result<nlohmann::json> list_tables(Source& source) {
  EXTDATA_ASSIGN_OR_RETURN(SqlSource * sql, as_sql(source));
  EXTDATA_ASSIGN_OR_RETURN(ParsedQuery q,
                           parse_query(sql->driver().tables_query(), sql->dialect()));
  EXTDATA_ASSIGN_OR_RETURN(Records records, sql->run_query(q, {}, kCatalogRows, nullptr));
  return records_to_json(*records);
}

Result<nlohmann::json> list_columns(Source& source, const std::string& table) {
  EXTDATA_ASSIGN_OR_RETURN(SqlSource * sql, as_sql(source));
  EXTDATA_ASSIGN_OR_RETURN(ParsedQuery q,
                           parse_query(sql->driver().columns_query(), sql->dialect()));
  std::vector<Parameter> parameters(q.parameters.size(), table);
  EXTDATA_ASSIGN_OR_RETURN(Records records, sql->run_query(q, parameters, kCatalogRows, nullptr));
  return records_to_json(*records);
}

Result<nlohmann::json> describe_table(Source& source, const std::string& table) {
  EXTDATA_ASSIGN_OR_RETURN(SqlSource * sql, as_sql(source));
  EXTDATA_ASSIGN_OR_RETURN(nlohmann::json columns, list_columns(source, table));
  if (columns.empty())
    return Error("sql.unknown_relation",
                 "table '" + table + "' does not exist or has no columns the user can see",
                 "choose a table from the list (extdata sql tables SOURCE)");
  const Dialect d = sql->dialect();
  // "schema.table" as listed; a dot inside a SQLite name stays in the name.
  const size_t dot = d == Dialect::sqlite ? std::string::npos : table.find('.');
  const std::string from = dot == std::string::npos
                               ? quote_identifier(table, d)
                               : quote_identifier(table.substr(0, dot), d) + "." +
                                     quote_identifier(table.substr(dot + 1), d);
  std::string list;
  for (auto& c : columns) {
    c["sql"] = quote_identifier(c.value("name", ""), d);
    list += (list.empty() ? "" : ", ") + c["sql"].get<std::string>();
  }
  return nlohmann::json{{"table", table},
                        {"from", from},
                        {"columns", columns},
                        {"query", "SELECT " + list + " FROM " + from}};
}

Error setting_error(std::string code, std::string key, std::string message, std::string hint) {
  Error e(std::move(code), std::move(message), std::move(hint));
  e.with("key", std::move(key));
  return e.as(ErrorCategory::invalid_input);
}

std::string spec_text(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::unique_ptr<Driver>> make_driver(const nlohmann::json& spec, const DriverOptions& o) {
  const std::string driver = spec_text(spec, "driver");
  if (driver == "postgres") return make_postgres_driver(spec, o);
  if (driver == "sqlite") return make_sqlite_driver(spec, o);
  if (driver == "mysql") return make_mysql_driver(spec, o);
  if (driver == "odbc") return make_odbc_driver(spec, o);
  return setting_error("sql.unknown_driver", "driver", "unknown driver '" + driver + "'",
                       "driver is one of postgres, mysql, sqlite, odbc");
}

// "postgres app@db.example.com:5432/crm?sslmode=verify-full", "sqlite /srv/crm.db",
// "odbc DSN=erp": the driver and where it reads (connection never holds the password).
std::string summarize(const config::SourceConfig& config) {
  const std::string driver = spec_text(config.spec, "driver");
  std::string where =
      driver == "sqlite" ? spec_text(config.spec, "path") : spec_text(config.spec, "connection");
  if (auto scheme = where.find("://"); driver != "odbc" && scheme != std::string::npos)
    where = where.substr(scheme + 3);
  return driver + " " + where;
}

}  // namespace extdata::sources::sql

namespace extdata::sources::kinds {
const SourceKind& sql() {
  static const SourceKind kind{
      {"sql", "SQL database",
       "One read-only query against PostgreSQL, MariaDB/MySQL, SQLite or an ODBC data source; "
       ":name parameters are bound from variables by the driver.",
       &sql::sql_settings()},
      &sql::make_sql_source,
      &sql::summarize};
  return kind;
}
}  // namespace extdata::sources::kinds
