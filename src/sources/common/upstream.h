#pragma once
// What sources share about upstream exchanges: the trace line of a request and the
// translation of an HTTP error status into an Error with a hint.
#include <string>

#include "core/error.h"
#include "http/http_client.h"
#include "sources/source.h"

namespace extdata::sources {

// Trimmed, redacted text of a body (for error details and the UI's raw viewer).
std::string body_preview(std::string_view body, size_t max_bytes = 500);

StepTrace make_step_trace(const std::string& step, const http::Request& request,
                          const http::Response& response);

// Status >= 400 → "source.http_status" with details http_status, body (trimmed, redacted),
// upstream_code / upstream_message when the body is a JSON error object, and a hint.
Error http_status_error(const std::string& step, const http::Request& request,
                        const http::Response& response);

// Prefixes a transport or credential error with the step it happened in (code unchanged).
Error in_step(const std::string& step, Error error);

}  // namespace extdata::sources
