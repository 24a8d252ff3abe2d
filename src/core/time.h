#pragma once
// Time helpers, once for the whole program: unix seconds, RFC 3339 timestamps (UTC, as
// tokens, headers and snapshots carry them) and durations as written in config ("30s", "15m").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace extdata {

// Whole seconds since 1970-01-01T00:00:00Z (truncated towards zero).
std::int64_t unix_seconds(Clock::time_point t);
Clock::time_point from_unix_seconds(std::int64_t seconds);

// Seconds from `from` to `to` (negative when `to` is earlier), with sub-second precision.
double seconds_between(Clock::time_point from, Clock::time_point to);

// "2026-12-01T14:50:37Z": UTC, whole seconds (fractions are truncated).
std::string format_rfc3339(Clock::time_point t);
// "2026-12-01" (UTC).
std::string format_date(Clock::time_point t);

// Parses an RFC 3339 date-time: "2026-12-01T14:50:37Z", "…T14:50:37.250+02:00" (a 't', ' ' or
// 'z' in place of 'T'/'Z' too, as RFC 3339 §5.6 allows). Fractions beyond microseconds are
// truncated; leap seconds (:60) are refused. Errors: code "time.bad_timestamp" with the byte
// position in details["position"].
Result<Clock::time_point> parse_rfc3339(std::string_view text);

// A duration as written in config: a non-negative number with an optional unit — "500ms",
// "30s" (or "30"), "15m" / "15min", "2h", "1d" — in seconds; nullopt when it is none of these.
std::optional<double> parse_duration_seconds(std::string_view text);

}  // namespace extdata
