#pragma once
// Errors as values across module boundaries. An Error tells the user what went
// wrong (message), what to do (hint) and keeps what the upstream said (details).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace extdata {

// What kind of failure an Error is. The category alone decides the HTTP status and the CLI
// exit code (core/error_codes.h; docs/errors.md lists them). "Caller" is whoever asked
// extdata: an API client or a CLI user; an upstream is a service extdata asked in turn.
enum class ErrorCategory {
  invalid_input,         // the caller sent something malformed or invalid (400, exit 1)
  usage,                 // the command line is used wrongly (400, exit 2)
  not_found,             // the named source, field, token or page does not exist (404)
  method_not_allowed,    // the path exists, the HTTP method does not (405)
  conflict,              // the request clashes with what is stored, e.g. a source in use (409)
  version_mismatch,      // the stored item is not the version the request expects (412)
  too_large,             // the request body is over the server's limit (413)
  precondition,          // the server is not set up for this: master key, data dir (503)
  unauthorized,          // the caller sent no valid API token (401)
  forbidden,             // the caller's token lacks the role (403)
  upstream,              // an upstream refused the request or answered something unusable (502)
  upstream_unavailable,  // an upstream could not be reached or kept throttling (502)
  timeout,               // an upstream did not answer in time (504)
  rate_limited,          // over a per-source budget of new upstream fetches; retry later (429)
  internal,              // a bug or a failure inside extdata (500)
};

struct Error {
  // Stable, machine-readable code such as "config.unknown_key" or "auth.secret_expired".
  std::string code;
  // What went wrong, in the user's words.
  std::string message;
  // What to do about it (may be empty).
  std::string hint;
  // Upstream facts: "http_status", "aadsts", "graph_code", "trace_id", "body" ...
  std::map<std::string, std::string> details;

  Error() = default;
  Error(std::string c, std::string m, std::string h = {})
      : code(std::move(c)), message(std::move(m)), hint(std::move(h)) {}

  // Set only where one code serves two kinds of failure (a config check and an upstream
  // answer); otherwise the category comes from the code's entry in the registry.
  std::optional<ErrorCategory> explicit_category;

  Error& with(std::string key, std::string value) {
    details[std::move(key)] = std::move(value);
    return *this;
  }
  Error& as(ErrorCategory c) {
    explicit_category = c;
    return *this;
  }
  // The explicit category, else the registry's for the code, else internal.
  ErrorCategory category() const;
  // "message (hint)" style one-liner for logs and CLI output.
  std::string to_string() const;
};

// A value or an Error. Not std::expected: clang 14 cannot compile libstdc++'s <expected>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(data_); }
  Error&& error() && { return std::get<1>(std::move(data_)); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status ok_status() {
  return Status{};
}

}  // namespace extdata

// Propagate an error from an expression returning Result/Status.
#define EXTDATA_TRY(expr)                                                         \
  do {                                                                            \
    auto extdata_try_result_ = (expr);                                            \
    if (!extdata_try_result_.ok()) return std::move(extdata_try_result_).error(); \
  } while (0)

#define EXTDATA_CONCAT_INNER(a, b) a##b
#define EXTDATA_CONCAT(a, b) EXTDATA_CONCAT_INNER(a, b)
// Assign the value of a Result to `lhs`, or return its error.
#define EXTDATA_ASSIGN_OR_RETURN(lhs, expr) \
  EXTDATA_ASSIGN_OR_RETURN_IMPL(EXTDATA_CONCAT(extdata_r_, __LINE__), lhs, expr)
#define EXTDATA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()
