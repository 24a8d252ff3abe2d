#include "sources/file/file_source.h"

#include <mutex>

#include "auth/diagnostics.h"
#include "core/redact.h"
#include "core/time.h"
#include "core/url.h"
#include "sources/common/record_reader.h"
#include "sources/common/transport.h"
#include "sources/common/upstream.h"
#include "sources/file/file_settings.h"
#include "sources/file/files_root.h"
#include "sources/file/stable_read.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

constexpr size_t kPreviewBytes = 2000;
constexpr size_t kMaxFileBytes = 256u << 20;  // as CurlOptions::max_response_bytes
// A file modified more recently than this is looked at once more after it has settled.
constexpr std::chrono::milliseconds kSettle{200};

// A content type from the extension, so `auto` reads customers.csv as CSV even when its
// first byte is '[' (a bracketed header).
std::string content_type_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return {};
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "json") return "application/json";
  if (ext == "xml") return "application/xml";
  if (ext == "csv" || ext == "tsv" || ext == "txt") return "text/csv";
  return {};
}

std::string modified_text(const FileVersion& v) {
  return format_rfc3339(from_unix_seconds(v.modified_ns / 1'000'000'000));
}

// What the last successful read produced, and how to tell whether the file changed since.
struct LastRead {
  std::shared_ptr<const extract::RecordSet> records;
  FileVersion version;        // path
  std::string etag;           // url
  std::string last_modified;  // url
};

class FileSource final : public Source {
 public:
  FileSource(config::SourceConfig config, const SourceDeps& deps)
      : config_(std::move(config)), clock_(deps.clock), metrics_(deps.metrics) {}

  static Result<std::shared_ptr<Source>> create(const config::SourceConfig& config,
                                                const SourceDeps& deps);

  const config::SourceConfig& config() const override { return config_; }
  Result<std::shared_ptr<const extract::RecordSet>> fetch(const FetchRequest& request,
                                                          FetchTrace* trace) override {
    FetchTrace local;
    FetchTrace& t = trace ? *trace : local;
    return count_fetch(metrics_, config_.name, [&] {
      auto result = path_.empty() ? fetch_url(t) : fetch_path(t);
      if (result.ok()) t.pages = 1;
      if (result.ok() && request.on_progress) request.on_progress(Progress{1, (*result)->size()});
      return result;
    });
  }
  std::vector<std::string> variable_names() const override { return {}; }
  std::shared_ptr<auth::Credential> credential() const override {
    return transport_ ? transport_->credential() : nullptr;
  }
  std::vector<std::string> static_warnings() const override {
    return transport_ ? auth::expiry_warnings(*transport_->credential(), clock_.now())
                      : std::vector<std::string>{};
  }

 private:
  Result<std::shared_ptr<const extract::RecordSet>> fetch_path(FetchTrace& trace);
  Result<std::shared_ptr<const extract::RecordSet>> fetch_url(FetchTrace& trace);
  Result<std::shared_ptr<const extract::RecordSet>> records_of(std::string body,
                                                               const std::string& content_type,
                                                               FetchTrace& trace) const;
  std::optional<LastRead> last() const {
    std::lock_guard lock(mu_);
    return last_;
  }
  void remember(LastRead read) {
    std::lock_guard lock(mu_);
    last_ = std::move(read);
  }

  config::SourceConfig config_;
  Clock& clock_;
  Metrics& metrics_;
  std::shared_ptr<const FilesRoots> roots_;
  std::string path_;  // resolved; empty for url
  std::string url_;
  std::string url_path_;
  http::Headers headers_;
  std::optional<Transport> transport_;
  RecordReader reader_;
  size_t max_records_ = 1000000;
  mutable std::mutex mu_;
  std::optional<LastRead> last_;
};

Result<std::shared_ptr<Source>> FileSource::create(const config::SourceConfig& config,
                                                   const SourceDeps& deps) {
  auto source = std::make_shared<FileSource>(config, deps);
  const json& spec = source->config_.spec;
  const BodyFormat format = parse_body_format(spec.value("format", std::string("auto")));
  EXTDATA_ASSIGN_OR_RETURN(source->reader_, RecordReader::compile(spec, format));
  source->max_records_ = spec.value("max_records", 1000000UL);
  if (spec.contains("path")) {
    source->roots_ = FilesRoots::process();
    EXTDATA_ASSIGN_OR_RETURN(source->path_,
                             source->roots_->resolve(spec["path"].get<std::string>()));
    return std::shared_ptr<Source>(std::move(source));
  }
  source->url_ = spec["url"].get<std::string>();
  auto url = Url::parse(source->url_);
  if (!url.ok() || !url->is_http()) {
    return Error("file.url", "url: '" + redact(source->url_) + "' is not an http(s) URL",
                 "a local file is read with path: (under a files root), not a file: URL")
        .with("key", "url");
  }
  source->url_path_ = url->path();
  if (spec.contains("headers"))
    for (const auto& [name, value] : spec["headers"].items())
      source->headers_.emplace_back(name, value.get<std::string>());
  EXTDATA_ASSIGN_OR_RETURN(source->transport_, Transport::build(source->config_, deps,
                                                                {.auth = spec.value("auth", json()),
                                                                 .key_prefix = "auth."}));
  return std::shared_ptr<Source>(std::move(source));
}

Result<std::shared_ptr<const extract::RecordSet>> FileSource::records_of(
    std::string body, const std::string& content_type, FetchTrace& trace) const {
  auto set = std::make_shared<extract::RecordSet>();
  EXTDATA_TRY(reader_.append(*set, std::move(body), content_type, "read"));
  EXTDATA_TRY(keep_first_records(set, max_records_, trace.warnings));
  return std::shared_ptr<const extract::RecordSet>(std::move(set));
}

Result<std::shared_ptr<const extract::RecordSet>> FileSource::fetch_path(FetchTrace& trace) {
  const auto started = clock_.now();
  const FileOpener open = [this] { return roots_->open(path_); };
  StepTrace step{.step = "read", .method = "READ", .url = path_};
  auto finish = [&](std::string name) {
    step.step = std::move(name);
    step.elapsed_ms = seconds_between(started, clock_.now()) * 1000;
    trace.steps.push_back(step);
  };
  auto previous = last();
  if (previous) {
    auto version = file_version(open);
    if (!version.ok()) {
      finish("read");
      return version.error();
    }
    if (*version == previous->version) {
      finish("unchanged since the last read (modified " + modified_text(*version) + ")");
      metrics_.counter("extdata_file_unchanged_total", {{"source", config_.name}}).inc();
      return previous->records;
    }
  }
  StableReadOptions options{.max_bytes = kMaxFileBytes, .settle = kSettle};
  options.now_ns = [this] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
        .count();
  };
  options.wait = [this](std::chrono::nanoseconds d) {
    clock_.sleep_for(std::chrono::ceil<std::chrono::milliseconds>(d));
  };
  auto read = read_stable(open, options);
  if (!read.ok()) {
    finish("read");
    return read.error();
  }
  step.response_preview = redact(body_preview(read->bytes, kPreviewBytes));
  const FileVersion version = read->version;
  finish("read " + std::to_string(version.size) + " bytes (modified " + modified_text(version) +
         ")");
  EXTDATA_ASSIGN_OR_RETURN(auto records,
                           records_of(std::move(read->bytes), content_type_of(path_), trace));
  metrics_.counter("extdata_file_reads_total", {{"source", config_.name}}).inc();
  remember({.records = records, .version = version});
  return records;
}

Result<std::shared_ptr<const extract::RecordSet>> FileSource::fetch_url(FetchTrace& trace) {
  http::Request request;
  request.url = url_;
  request.headers = headers_;
  auto previous = last();
  if (previous && !previous->etag.empty())
    request.headers.emplace_back("If-None-Match", previous->etag);
  if (previous && !previous->last_modified.empty())
    request.headers.emplace_back("If-Modified-Since", previous->last_modified);
  auto response = transport_->client().send(request);
  if (!response.ok()) {
    trace.steps.push_back({.step = "read", .method = "GET", .url = redact(url_)});
    return in_step("read", std::move(response).error());
  }
  trace.steps.push_back(make_step_trace("read", request, *response));
  if (response->status == 304 && previous) {
    metrics_.counter("extdata_file_unchanged_total", {{"source", config_.name}}).inc();
    return previous->records;
  }
  if (response->status >= 300) return http_status_error("read", request, *response);
  LastRead read;
  read.etag = response->header("ETag").value_or("");
  read.last_modified = response->header("Last-Modified").value_or("");
  std::string content_type = response->header("Content-Type").value_or("");
  if (content_type.empty()) content_type = content_type_of(url_path_);
  EXTDATA_ASSIGN_OR_RETURN(read.records,
                           records_of(std::move(response->body), content_type, trace));
  metrics_.counter("extdata_file_reads_total", {{"source", config_.name}}).inc();
  remember(read);
  return read.records;
}

}  // namespace

Result<std::shared_ptr<Source>> make_file_source(const config::SourceConfig& config,
                                                 const SourceDeps& deps) {
  return FileSource::create(config, deps);
}

namespace {
std::string summarize_file(const config::SourceConfig& config) {
  const std::string where = config.spec.value("path", config.spec.value("url", ""));
  const std::string format = config.spec.value("format", "");
  return format.empty() || format == "auto" ? where : where + " (" + format + ")";
}
}  // namespace

namespace kinds {
const SourceKind& file() {
  static const SourceKind kind{{"file", "File",
                                "A JSON, XML or CSV file, from a directory the operator allows "
                                "or an http(s) URL, read again whenever it changes.",
                                &file_settings()},
                               &make_file_source,
                               &summarize_file};
  return kind;
}
}  // namespace kinds

}  // namespace extdata::sources
