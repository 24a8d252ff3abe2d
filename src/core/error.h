#pragma once
// Errors as values across module boundaries. An Error tells the user what went
// wrong (message), what to do (hint) and keeps what the upstream said (details).
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace extdata {

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

  Error& with(std::string key, std::string value) {
    details[std::move(key)] = std::move(value);
    return *this;
  }
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
