#include "sources/rest/rest_source.h"

#include <simdjson.h>

#include "auth/authenticated_client.h"
#include "auth/diagnostics.h"
#include "core/log.h"
#include "extract/csv.h"
#include "extract/json_text.h"
#include "extract/xml.h"
#include "sources/common/pagination.h"
#include "sources/common/request_template.h"
#include "sources/common/transport.h"
#include "sources/common/upstream.h"
#include "sources/rest/rest_settings.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

enum class Format { json, xml, csv, automatic };

Format parse_format(const std::string& text) {
  if (text == "json") return Format::json;
  if (text == "xml") return Format::xml;
  if (text == "csv") return Format::csv;
  return Format::automatic;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::json:
      return "JSON";
    case Format::xml:
      return "XML";
    case Format::csv:
      return "CSV";
    case Format::automatic:
      break;
  }
  return "auto";
}

// The format of a response when the source says `auto`: Content-Type first, then the first byte.
Format detect_format(const http::Response& response) {
  std::string type = response.header("Content-Type").value_or("");
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.find("json") != std::string::npos) return Format::json;
  if (type.find("xml") != std::string::npos) return Format::xml;
  if (type.find("csv") != std::string::npos) return Format::csv;
  for (char c : response.body) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '{' || c == '[') return Format::json;
    if (c == '<') return Format::xml;
    break;
  }
  return Format::csv;
}

// "fields.Title" → $['fields']['Title']; expressions starting with '$' are JSONPath already.
std::string dotted_to_jsonpath(const std::string& expr, bool split_dots) {
  if (!expr.empty() && expr.front() == '$') return expr;
  std::string path = "$";
  size_t i = 0;
  while (i <= expr.size()) {
    size_t dot = split_dots ? expr.find('.', i) : std::string::npos;
    if (dot == std::string::npos) dot = expr.size();
    path += "[";
    extract::append_json_string(path, expr.substr(i, dot - i));
    path += "]";
    i = dot + 1;
  }
  return path;
}

Result<extract::JsonPath> compile_jsonpath(const std::string& text, const std::string& key) {
  auto path = extract::JsonPath::compile(text);
  if (!path.ok()) {
    return Error("source.jsonpath", key + ": " + path.error().message, path.error().hint)
        .with("key", key);
  }
  return std::move(path).value();
}

constexpr size_t kErrorPreviewBytes = 300;

Error format_error(const std::string& step, Format format, const http::Response& response,
                   const Error& inner) {
  Error e("source.format",
          step + ": the response is not valid " + std::string(format_name(format)) + ": " +
              inner.message,
          "the upstream answered with something else than the declared format (Content-Type: " +
              response.header("Content-Type").value_or("none") + "); check format and url");
  e.details = inner.details;
  e.with("inner_code", inner.code).with("body", body_preview(response.body, kErrorPreviewBytes));
  return e;
}

struct Extraction {
  std::string name;
  std::string expression;
  std::optional<extract::JsonPath> jsonpath;  // when the expression starts with '$'
};

struct Step {
  std::string name;
  RequestTemplate request;
  Format format = Format::automatic;
  std::vector<Extraction> extract;
};

class RestSource final : public Source {
 public:
  RestSource(config::SourceConfig config, const SourceDeps& deps)
      : config_(std::move(config)), clock_(deps.clock), metrics_(deps.metrics) {}

  static Result<std::shared_ptr<Source>> create(const config::SourceConfig& config,
                                                const SourceDeps& deps);

  const config::SourceConfig& config() const override { return config_; }
  Result<std::shared_ptr<const extract::RecordSet>> fetch(const FetchRequest& request,
                                                          FetchTrace* trace) override;
  std::vector<std::string> variable_names() const override;
  std::shared_ptr<auth::Credential> credential() const override {
    return transport_ ? transport_->credential() : nullptr;
  }
  std::vector<std::string> static_warnings() const override {
    return transport_ ? auth::expiry_warnings(*transport_->credential(), clock_.now())
                      : std::vector<std::string>{};
  }

 private:
  Result<std::shared_ptr<const extract::RecordSet>> run(const FetchRequest& request,
                                                        FetchTrace& trace);
  Result<http::Response> send(const std::string& step, http::Request request, FetchTrace& trace);
  Status run_step(const Step& step, ValueMap& values, FetchTrace& trace);
  // Appends the page's records (its body is moved into the set) and returns the format it
  // was read as.
  Result<Format> append_page(extract::RecordSet& set, http::Response& response,
                             const std::string& step);

  config::SourceConfig config_;
  Clock& clock_;
  Metrics& metrics_;
  std::optional<Transport> transport_;
  VariableDecls decls_;
  std::vector<Step> steps_;
  Step final_;
  Paginator paginator_;
  std::optional<extract::JsonPath> records_path_;  // JSON; default by the body's first byte
  extract::JsonPath whole_array_;                  // $[*]
  extract::JsonPath root_;                         // $
  std::vector<extract::ColumnSpec> json_columns_;
  std::vector<extract::ColumnSpec> named_columns_;  // CSV and XML rows: $['name']
  extract::XmlQuery xml_query_;
  char csv_delimiter_ = 0;
  std::chrono::milliseconds timeout_{60'000};
};

Result<Step> compile_step(const json& spec, const std::string& key_prefix,
                          const std::string& default_name) {
  Step step;
  step.name = spec.value("name", default_name);
  EXTDATA_ASSIGN_OR_RETURN(step.request, RequestTemplate::compile(spec, key_prefix));
  step.format = parse_format(spec.value("format", std::string("auto")));
  if (spec.contains("extract")) {
    for (const auto& [name, expr] : spec["extract"].items()) {
      const std::string key = key_prefix + "extract." + name;
      Extraction e{name, expr.get<std::string>(), std::nullopt};
      if (!e.expression.empty() && e.expression.front() == '$') {
        EXTDATA_ASSIGN_OR_RETURN(e.jsonpath, compile_jsonpath(e.expression, key));
      } else {
        if (step.format == Format::json) {
          return Error("source.jsonpath", key + ": '" + e.expression + "' is not a JSONPath",
                       "JSONPaths start with $, e.g. $.id")
              .with("key", key);
        }
        if (auto s = extract::validate_xpath(e.expression); !s.ok()) {
          return Error("source.xpath", key + ": " + s.error().message,
                       "use a JSONPath ($.id) or an XPath (//id)")
              .with("key", key);
        }
      }
      if (step.format == Format::csv) {
        return Error("source.extract", key + ": values cannot be extracted from CSV responses",
                     "use a JSON or XML step")
            .with("key", key)
            .as(ErrorCategory::invalid_input);
      }
      step.extract.push_back(std::move(e));
    }
  }
  return step;
}

Result<std::shared_ptr<Source>> RestSource::create(const config::SourceConfig& config,
                                                   const SourceDeps& deps) {
  auto source = std::make_shared<RestSource>(config, deps);
  const json& spec = source->config_.spec;

  if (spec.contains("variables")) {
    for (const auto& [name, v] : spec["variables"].items()) {
      VariableDecl decl;
      if (v.contains("default") && !v["default"].is_null())
        decl.default_value = v["default"].get<std::string>();
      decl.required = v.value("required", false);
      decl.raw = v.value("raw", false);
      source->decls_[name] = decl;
    }
  }

  std::vector<json> step_specs;
  if (spec.contains("steps")) step_specs = spec["steps"].get<std::vector<json>>();
  for (size_t i = 0; i < step_specs.size(); ++i) {
    const bool is_final = i + 1 == step_specs.size() && !spec.contains("url");
    if (is_final) break;
    EXTDATA_ASSIGN_OR_RETURN(Step step,
                             compile_step(step_specs[i], "steps[" + std::to_string(i) + "].",
                                          "step " + std::to_string(i + 1)));
    source->steps_.push_back(std::move(step));
  }
  if (spec.contains("url")) {
    EXTDATA_ASSIGN_OR_RETURN(source->final_.request, RequestTemplate::compile(spec, ""));
    source->final_.name = "fetch";
    source->final_.format = parse_format(spec.value("format", std::string("auto")));
  } else {
    // No url: the last step is the request whose responses hold the records.
    const size_t last = step_specs.size() - 1;
    const std::string prefix = "steps[" + std::to_string(last) + "].";
    EXTDATA_ASSIGN_OR_RETURN(source->final_, compile_step(step_specs[last], prefix, "fetch"));
    if (spec.contains("format") && spec["format"] != "auto")
      source->final_.format = parse_format(spec["format"]);
  }

  EXTDATA_ASSIGN_OR_RETURN(source->paginator_,
                           Paginator::compile(spec.value("pagination", json())));
  EXTDATA_ASSIGN_OR_RETURN(source->whole_array_, compile_jsonpath("$[*]", "records"));
  EXTDATA_ASSIGN_OR_RETURN(source->root_, compile_jsonpath("$", "records"));

  const Format format = source->final_.format;
  const std::string records = spec.value("records", std::string());
  if (!records.empty() && format != Format::xml && format != Format::csv) {
    if (records.front() == '$') {
      EXTDATA_ASSIGN_OR_RETURN(source->records_path_, compile_jsonpath(records, "records"));
    } else if (format == Format::json) {
      return Error("source.jsonpath", "records: '" + records + "' is not a JSONPath",
                   "JSONPaths start with $, e.g. $.value[*]")
          .with("key", "records");
    }
  }
  if (!records.empty() && format != Format::json && format != Format::csv &&
      records.front() != '$') {
    source->xml_query_.records = records;
  }
  if (format == Format::xml) {
    if (auto s = extract::validate_xpath(source->xml_query_.records); !s.ok()) {
      return Error("source.xpath", "records: " + s.error().message).with("key", "records");
    }
  }
  if (spec.contains("namespaces")) {
    for (const auto& [prefix, uri] : spec["namespaces"].items())
      source->xml_query_.namespaces.emplace_back(prefix, uri.get<std::string>());
  }
  if (spec.contains("columns")) {
    for (const auto& [name, expr_json] : spec["columns"].items()) {
      const std::string expr = expr_json.get<std::string>();
      const std::string key = "columns." + name;
      if (format != Format::xml) {
        const bool csv = format == Format::csv;
        EXTDATA_ASSIGN_OR_RETURN(auto path, compile_jsonpath(dotted_to_jsonpath(expr, !csv), key));
        source->json_columns_.push_back({name, path});
      }
      if (format == Format::xml) {
        if (auto s = extract::validate_xpath(expr); !s.ok()) {
          return Error("source.xpath", key + ": " + s.error().message).with("key", key);
        }
      }
      source->xml_query_.columns.emplace_back(name, expr);
      EXTDATA_ASSIGN_OR_RETURN(auto named, compile_jsonpath(dotted_to_jsonpath(name, false), key));
      source->named_columns_.push_back({name, named});
    }
  }
  if (spec.contains("delimiter")) {
    const std::string d = spec["delimiter"].get<std::string>();
    if (d == "," || d == ";") {
      source->csv_delimiter_ = d[0];
    } else if (d == "tab" || d == "\t" || d == "\\t") {
      source->csv_delimiter_ = '\t';
    } else {
      return Error("source.delimiter", "delimiter: '" + d + "' is not a CSV delimiter",
                   "use , ; or tab")
          .with("key", "delimiter");
    }
  }
  source->timeout_ =
      std::chrono::milliseconds(static_cast<long long>(spec.value("timeout", 60.0) * 1000));

  EXTDATA_ASSIGN_OR_RETURN(source->transport_, Transport::build(source->config_, deps,
                                                                {.auth = spec.value("auth", json()),
                                                                 .key_prefix = "auth."}));
  return std::shared_ptr<Source>(std::move(source));
}

std::vector<std::string> RestSource::variable_names() const {
  std::set<std::string> produced;
  for (const auto& step : steps_)
    for (const auto& e : step.extract) produced.insert(e.name);
  std::set<std::string> names;
  for (const auto& [name, decl] : decls_) names.insert(name);
  for (const auto& step : steps_)
    for (const auto& n : step.request.variables()) names.insert(n);
  for (const auto& n : final_.request.variables()) names.insert(n);
  std::vector<std::string> out;
  for (const auto& n : names)
    if (!produced.count(n)) out.push_back(n);
  return out;
}

Result<http::Response> RestSource::send(const std::string& step, http::Request request,
                                        FetchTrace& trace) {
  request.timeout = timeout_;
  http::HttpClient& client = transport_->client();
  auto response = client.send(request);
  if (!response.ok()) {
    StepTrace t;
    t.step = step;
    t.method = request.method;
    t.url = redact(request.url);
    trace.steps.push_back(std::move(t));
    return in_step(step, std::move(response).error());
  }
  trace.steps.push_back(make_step_trace(step, request, *response));
  if (response->status >= 400) return http_status_error(step, request, *response);
  return response;
}

Status RestSource::run_step(const Step& step, ValueMap& values, FetchTrace& trace) {
  EXTDATA_ASSIGN_OR_RETURN(http::Request request, step.request.render(values, decls_));
  EXTDATA_ASSIGN_OR_RETURN(http::Response response, send(step.name, std::move(request), trace));
  if (step.extract.empty()) return ok_status();
  Format format = step.format == Format::automatic ? detect_format(response) : step.format;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (format == Format::json) {
    auto parsed = parser.parse(response.body);
    if (parsed.error()) {
      return format_error(step.name, Format::json, response,
                          Error("extract.json", simdjson::error_message(parsed.error())));
    }
    root = parsed.value();
  }
  for (const auto& e : step.extract) {
    std::optional<std::string> value;
    if (format == Format::json) {
      if (!e.jsonpath) {
        return Error("source.extract",
                     step.name + ": extract '" + e.name + "' is an XPath but the response is JSON",
                     "use a JSONPath such as $.id");
      }
      if (auto found = e.jsonpath->first(root); found && !found->is_null())
        value = extract::display_text(*found);
    } else if (format == Format::xml) {
      if (e.jsonpath) {
        return Error("source.extract",
                     step.name + ": extract '" + e.name + "' is a JSONPath but the response is XML",
                     "use an XPath such as //id");
      }
      auto values_json =
          extract::xpath_values_json(response.body, e.expression, xml_query_.namespaces);
      if (!values_json.ok())
        return format_error(step.name, Format::xml, response, values_json.error());
      auto list = json::parse(*values_json, nullptr, false);
      if (list.is_array() && !list.empty() && list[0].is_string())
        value = list[0].get<std::string>();
    } else {
      return Error("source.extract", step.name + ": values cannot be extracted from a CSV response",
                   "use a JSON or XML step");
    }
    if (!value) {
      return Error("source.extract",
                   "step '" + step.name + "': " + e.expression + " matched nothing (extract " +
                       e.name + ")",
                   "check the path against the response (extdata source test shows it)")
          .with("step", step.name)
          .with("path", e.expression)
          .with("body", body_preview(response.body, kErrorPreviewBytes));
    }
    values[e.name] = *value;
  }
  return ok_status();
}

Result<Format> RestSource::append_page(extract::RecordSet& set, http::Response& response,
                                       const std::string& step) {
  const Format format =
      final_.format == Format::automatic ? detect_format(response) : final_.format;
  if (format == Format::json) {
    const extract::JsonPath* records = records_path_ ? &*records_path_ : nullptr;
    if (!records) {
      const size_t first = response.body.find_first_not_of(" \t\r\n");
      records = first != std::string::npos && response.body[first] == '[' ? &whole_array_ : &root_;
    }
    // The body moves into the set (no copy of a page); its start is kept for an error's preview.
    std::string head = response.body.substr(0, kErrorPreviewBytes + 1);  // +1: marks a cut
    auto s = set.append_page(std::move(response.body), *records, json_columns_);
    if (!s.ok()) {
      if (s.error().code == "extract.columns") return s.error();
      response.body = std::move(head);
      return format_error(step, format, response, s.error());
    }
    return format;
  }
  if (format == Format::xml) {
    auto converted = extract::xml_records_to_json(response.body, xml_query_);
    if (!converted.ok()) return format_error(step, format, response, converted.error());
    EXTDATA_TRY(set.append_page(
        std::move(converted).value(), whole_array_,
        xml_query_.columns.empty() ? std::vector<extract::ColumnSpec>{} : named_columns_));
    return format;
  }
  extract::CsvOptions options;
  options.delimiter = csv_delimiter_;
  auto table = extract::parse_csv(response.body, options);
  if (!table.ok()) return format_error(step, format, response, table.error());
  EXTDATA_TRY(set.append_page(extract::csv_table_to_json(*table), whole_array_, json_columns_));
  return format;
}

Result<std::shared_ptr<const extract::RecordSet>> RestSource::run(const FetchRequest& request,
                                                                  FetchTrace& trace) {
  ValueMap values;
  for (const auto& [name, decl] : decls_)
    if (decl.default_value) values[name] = *decl.default_value;
  for (const auto& [name, value] : request.variables) values[name] = value;
  for (const auto& [name, decl] : decls_) {
    if (decl.required && values.find(name) == values.end()) {
      return Error("source.variable_missing", "missing required variable '" + name + "'",
                   "pass it (--var " + name +
                       "=VALUE, a field's context or the API's variables) or declare a default")
          .with("variable", name);
    }
  }
  for (const auto& step : steps_) EXTDATA_TRY(run_step(step, values, trace));

  EXTDATA_ASSIGN_OR_RETURN(http::Request page_request, final_.request.render(values, decls_));
  Paginator::State state;
  paginator_.prepare_first(page_request, state);
  auto set = std::make_shared<extract::RecordSet>();
  const bool needs_body = paginator_.type() == Paginator::Type::next_link ||
                          paginator_.type() == Paginator::Type::cursor;
  while (true) {
    const std::string step = state.pages == 0
                                 ? final_.name
                                 : final_.name + " (page " + std::to_string(state.pages + 1) + ")";
    EXTDATA_ASSIGN_OR_RETURN(http::Response response, send(step, page_request, trace));
    const size_t before = set->size();
    EXTDATA_ASSIGN_OR_RETURN(Format format, append_page(*set, response, step));
    ++state.pages;
    trace.pages = state.pages;
    state.records = set->size();
    metrics_.counter("extdata_source_pages_total", {{"source", config_.name}}).inc();
    if (request.on_progress) request.on_progress(Progress{state.pages, set->size()});
    // Links and cursors are read from the page as the set parsed it, not parsed again.
    std::optional<simdjson::dom::element> body;
    if (needs_body && format == Format::json) body = set->last_page_root();
    auto next = paginator_.next(page_request, response, body ? &*body : nullptr,
                                set->size() - before, state, trace.warnings);
    if (!next) break;
    page_request = std::move(*next);
  }
  if (set->size() > paginator_.max_records()) {
    // Keep exactly max_records: cut the snapshot form and restore it.
    json snapshot = json::parse(set->to_json());
    snapshot.erase(snapshot.begin() + static_cast<long>(paginator_.max_records()), snapshot.end());
    auto cut = extract::RecordSet::from_json(snapshot.dump());
    if (!cut.ok()) return cut.error();
    if (std::find_if(trace.warnings.begin(), trace.warnings.end(), [](const std::string& w) {
          return w.find("max_records") != std::string::npos;
        }) == trace.warnings.end()) {
      trace.warnings.push_back("records cut at max_records (" +
                               std::to_string(paginator_.max_records()) + ")");
    }
    set = std::make_shared<extract::RecordSet>(std::move(cut).value());
  }
  return std::shared_ptr<const extract::RecordSet>(std::move(set));
}

Result<std::shared_ptr<const extract::RecordSet>> RestSource::fetch(const FetchRequest& request,
                                                                    FetchTrace* trace) {
  FetchTrace local;
  FetchTrace& t = trace ? *trace : local;
  return count_fetch(metrics_, config_.name, [&] { return run(request, t); });
}

}  // namespace

Result<std::shared_ptr<Source>> make_rest_source(const config::SourceConfig& config,
                                                 const SourceDeps& deps) {
  return RestSource::create(config, deps);
}

namespace kinds {
const SourceKind& rest() {
  static const SourceKind kind{{"rest", "REST API",
                                "Any HTTP API answering JSON, XML or CSV, with optional steps "
                                "before the request, pagination and any auth method.",
                                &rest_settings()},
                               &make_rest_source};
  return kind;
}
}  // namespace kinds

}  // namespace extdata::sources
