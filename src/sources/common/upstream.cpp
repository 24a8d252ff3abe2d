#include "sources/common/upstream.h"

#include <nlohmann/json.hpp>

#include "core/redact.h"

namespace extdata::sources {

std::string body_preview(std::string_view body, size_t max_bytes) {
  std::string text(body.substr(0, max_bytes));
  // Do not cut a UTF-8 sequence in half.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  std::string out = redact(text);
  if (body.size() > max_bytes) out += "…";
  return out;
}

StepTrace make_step_trace(const std::string& step, const http::Request& request,
                          const http::Response& response) {
  StepTrace t;
  t.step = step;
  t.method = request.method;
  t.url = redact(request.url);
  t.status = response.status;
  t.elapsed_ms = static_cast<double>(response.elapsed.count()) / 1000.0;
  t.attempts = response.attempts;
  t.response_preview = body_preview(response.body, 2048);
  return t;
}

namespace {

std::string status_hint(long status) {
  switch (status) {
    case 400:
      return "the upstream rejected the request: check the URL, query parameters, body and "
             "variables";
    case 401:
      return "the upstream did not accept the credentials: check the source's auth settings "
             "(extdata auth test)";
    case 403:
      return "the credentials are valid but lack permission for this resource: grant the app or "
             "user access";
    case 404:
      return "the resource does not exist: check the URL and the variables substituted into it";
    case 405:
      return "the upstream does not allow this method here: check method";
    case 406:
    case 415:
      return "the upstream does not accept this content type: check headers and body_format";
    case 429:
      return "the upstream is throttling requests: retry later or lower the refresh rate";
    default:
      break;
  }
  if (status >= 500) return "the upstream failed (server error): retry later or ask its operator";
  return "check the request settings of the source";
}

}  // namespace

Error http_status_error(const std::string& step, const http::Request& request,
                        const http::Response& response) {
  std::string message = "HTTP " + std::to_string(response.status) + " from " + request.method +
                        " " + redact(request.url);
  if (!step.empty()) message = step + ": " + message;
  Error e("source.http_status", message, status_hint(response.status));
  e.with("http_status", std::to_string(response.status));
  if (!response.body.empty()) e.with("body", body_preview(response.body));
  // Graph, OData and many REST APIs answer {"error": {"code": ..., "message": ...}}.
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object()) {
    const nlohmann::json* err = parsed.contains("error") ? &parsed["error"] : &parsed;
    if (err->is_object()) {
      if (err->contains("code") && (*err)["code"].is_string())
        e.with("upstream_code", (*err)["code"].get<std::string>());
      if (err->contains("message") && (*err)["message"].is_string()) {
        e.with("upstream_message", redact((*err)["message"].get<std::string>()));
        e.message += ": " + e.details["upstream_message"];
      }
    } else if (err->is_string()) {
      e.with("upstream_message", redact(err->get<std::string>()));
      e.message += ": " + e.details["upstream_message"];
    }
  }
  if (auto id = response.header("request-id")) e.with("request_id", *id);
  return e;
}

Error in_step(const std::string& step, Error error) {
  if (!step.empty()) error.message = step + ": " + error.message;
  return error;
}

}  // namespace extdata::sources
