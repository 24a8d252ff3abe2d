#include "sources/rest/rest_source.h"

#include <simdjson.h>

#include "auth/authenticated_client.h"
#include "auth/diagnostics.h"
#include "core/log.h"
#include "core/time.h"
#include "extract/json_text.h"
#include "sources/common/pagination.h"
#include "sources/common/record_reader.h"
#include "sources/common/request_template.h"
#include "sources/common/transport.h"
#include "sources/common/upstream.h"
#include "sources/rest/incremental.h"
#include "sources/rest/rest_settings.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

// The element of a decoded page, for readers that take one (valid while `page` lives).
std::optional<simdjson::dom::element> root_of(const std::optional<extract::RecordJson>& page) {
  return page ? std::optional(page->root()) : std::nullopt;
}

using Format = BodyFormat;

constexpr size_t kErrorPreviewBytes = 300;

Format detect_format(const http::Response& response) {
  return detect_body_format(response.header("Content-Type").value_or(""), response.body);
}

Error format_error(const std::string& step, Format format, const http::Response& response,
                   const Error& inner) {
  return body_format_error(step, format, response.header("Content-Type").value_or(""),
                           response.body, inner);
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
  // Reads every page from `first` on into `set`; the last page's root when it was JSON.
  Result<std::optional<extract::RecordJson>> read_pages(http::Request first,
                                                        extract::RecordSet& set,
                                                        const FetchRequest& request,
                                                        FetchTrace& trace, SyncReport& report);
  // The changes since `cursor` merged into `base`; nullopt when the API no longer takes the
  // cursor (410 Gone: read everything again).
  Result<std::optional<std::shared_ptr<const extract::RecordSet>>> read_changes(
      const http::Request& first, const extract::RecordSet& base, const rest::SyncCursor& cursor,
      const FetchRequest& request, FetchTrace& trace, SyncReport& report);
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
  RecordReader reader_;
  std::optional<rest::IncrementalSync> incremental_;
  std::chrono::milliseconds timeout_{60'000};
};

Result<Step> compile_step(const json& spec, const std::string& key_prefix,
                          const std::string& default_name) {
  Step step;
  step.name = spec.value("name", default_name);
  EXTDATA_ASSIGN_OR_RETURN(step.request, RequestTemplate::compile(spec, key_prefix));
  step.format = parse_body_format(spec.value("format", std::string("auto")));
  if (spec.contains("extract")) {
    for (const auto& [name, expr] : spec["extract"].items()) {
      const std::string key = key_prefix + "extract." + name;
      Extraction e{name, expr.get<std::string>(), std::nullopt};
      if (!e.expression.empty() && e.expression.front() == '$') {
        EXTDATA_ASSIGN_OR_RETURN(e.jsonpath, compile_source_jsonpath(e.expression, key));
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
    source->final_.format = parse_body_format(spec.value("format", std::string("auto")));
  } else {
    // No url: the last step is the request whose responses hold the records.
    const size_t last = step_specs.size() - 1;
    const std::string prefix = "steps[" + std::to_string(last) + "].";
    EXTDATA_ASSIGN_OR_RETURN(source->final_, compile_step(step_specs[last], prefix, "fetch"));
    if (spec.contains("format") && spec["format"] != "auto")
      source->final_.format = parse_body_format(spec["format"]);
  }

  EXTDATA_ASSIGN_OR_RETURN(source->paginator_,
                           Paginator::compile(spec.value("pagination", json())));
  EXTDATA_ASSIGN_OR_RETURN(source->reader_, RecordReader::compile(spec, source->final_.format));
  EXTDATA_ASSIGN_OR_RETURN(source->incremental_, rest::IncrementalSync::compile(spec));
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
          extract::xpath_values_json(response.body, e.expression, reader_.namespaces());
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
  const std::string content_type = response.header("Content-Type").value_or("");
  return reader_.append(set, std::move(response.body), content_type, step);
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
  SyncReport report;
  report.mode = incremental_ ? "incremental" : "full";
  auto done = [&](std::shared_ptr<const extract::RecordSet> records) {
    report_sync(metrics_, config_.name, report, request);
    return records;
  };
  const SyncBase& previous = request.previous;
  if (incremental_ && previous.records && !previous.cursor.empty()) {
    const auto cursor = rest::SyncCursor::decode(previous.cursor);
    const double age =
        cursor ? static_cast<double>(unix_seconds(clock_.now()) - cursor->full_at) : 0;
    if (!cursor) {
      report.note = "the stored cursor is not one this version wrote; read in full";
    } else if (incremental_->full_every() && age >= *incremental_->full_every()) {
      report.note = "the last full sync is older than incremental.full_every; read in full";
    } else {
      EXTDATA_ASSIGN_OR_RETURN(auto merged, read_changes(page_request, *previous.records, *cursor,
                                                         request, trace, report));
      if (merged) return done(std::move(*merged));
    }
    trace.warnings.push_back(report.note);
  }
  auto set = std::make_shared<extract::RecordSet>();
  EXTDATA_ASSIGN_OR_RETURN(auto last_page, read_pages(page_request, *set, request, trace, report));
  EXTDATA_TRY(keep_first_records(set, paginator_.max_records(), trace.warnings));
  if (incremental_) {
    if (auto since = incremental_->next_since(*set, root_of(last_page), "")) {
      report.cursor = rest::SyncCursor{*since, unix_seconds(clock_.now())}.encode();
    } else {
      trace.warnings.push_back(
          "incremental: no cursor found (check incremental.cursor or cursor_max); the next "
          "refresh reads everything again");
    }
  }
  return done(std::shared_ptr<const extract::RecordSet>(std::move(set)));
}

Result<std::optional<extract::RecordJson>> RestSource::read_pages(http::Request page_request,
                                                                  extract::RecordSet& set,
                                                                  const FetchRequest& request,
                                                                  FetchTrace& trace,
                                                                  SyncReport& report) {
  Paginator::State state;
  paginator_.prepare_first(page_request, state);
  const bool needs_body = paginator_.type() == Paginator::Type::next_link ||
                          paginator_.type() == Paginator::Type::cursor || incremental_;
  std::optional<extract::RecordJson> body;  // keeps its page alive (last_page_root)
  while (true) {
    const std::string step = state.pages == 0
                                 ? final_.name
                                 : final_.name + " (page " + std::to_string(state.pages + 1) + ")";
    EXTDATA_ASSIGN_OR_RETURN(http::Response response, send(step, page_request, trace));
    const size_t before = set.size();
    EXTDATA_ASSIGN_OR_RETURN(Format format, append_page(set, response, step));
    ++state.pages;
    ++report.requests;
    trace.pages = state.pages;
    state.records = set.size();
    metrics_.counter("extdata_source_pages_total", {{"source", config_.name}}).inc();
    if (request.on_progress) request.on_progress(Progress{state.pages, set.size()});
    // Links and cursors are read from the page as the set parsed it, not parsed again.
    body.reset();
    if (needs_body && format == Format::json) body = set.last_page_root();
    const std::optional<simdjson::dom::element> root =
        body ? std::optional(body->root()) : std::nullopt;
    auto next = paginator_.next(page_request, response, root ? &*root : nullptr,
                                set.size() - before, state, trace.warnings);
    if (!next) break;
    page_request = std::move(*next);
  }
  return body;
}

Result<std::optional<std::shared_ptr<const extract::RecordSet>>> RestSource::read_changes(
    const http::Request& first, const extract::RecordSet& base, const rest::SyncCursor& cursor,
    const FetchRequest& request, FetchTrace& trace, SyncReport& report) {
  http::Request since_request = first;
  since_request.url = with_query_param(first.url, incremental_->since_param(), cursor.since);
  extract::RecordSet changes;
  auto last_page = read_pages(std::move(since_request), changes, request, trace, report);
  if (!last_page.ok()) {
    const Error& e = last_page.error();
    if (e.code != "source.http_status" || e.details.count("http_status") == 0 ||
        e.details.at("http_status") != "410")
      return e;
    report.note = "the API answered 410 Gone to the stored cursor; read in full";
    return std::optional<std::shared_ptr<const extract::RecordSet>>();
  }
  EXTDATA_ASSIGN_OR_RETURN(MergedRecords merged,
                           merge_changes(base, changes, incremental_->rules()));
  report.incremental = true;
  report.added = merged.counts.added;
  report.updated = merged.counts.updated;
  report.removed = merged.counts.removed;
  report.changes = std::move(merged.changes);
  const std::string since =
      incremental_->next_since(changes, root_of(*last_page), cursor.since).value_or(cursor.since);
  report.cursor = rest::SyncCursor{since, cursor.full_at}.encode();
  auto set = std::make_shared<extract::RecordSet>(std::move(merged.records));
  if (set->size() > paginator_.max_records()) {
    report.changes.reset();  // records were cut: what was built from the base is built again
    EXTDATA_TRY(keep_first_records(set, paginator_.max_records(), trace.warnings));
  }
  return std::optional<std::shared_ptr<const extract::RecordSet>>(std::move(set));
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

namespace {
std::string summarize_rest(const config::SourceConfig& config) {
  const auto steps = config.spec.find("steps");
  const size_t n = steps != config.spec.end() && steps->is_array() ? steps->size() : 0;
  const std::string url = config.spec.value("url", "");
  if (n == 0) return url;
  return (url.empty() ? "" : url + " ") + "(" + std::to_string(n) + (n == 1 ? " step)" : " steps)");
}
}  // namespace

namespace kinds {
const SourceKind& rest() {
  static const SourceKind kind{{"rest", "REST API",
                                "Any HTTP API answering JSON, XML or CSV, with optional steps "
                                "before the request, pagination and any auth method.",
                                &rest_settings()},
                               &make_rest_source,
                               &summarize_rest};
  return kind;
}
}  // namespace kinds

}  // namespace extdata::sources
