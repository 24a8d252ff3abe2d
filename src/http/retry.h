#pragma once
// Retry policy for upstream calls: which responses are retried and how long to wait.
#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "core/clock.h"

namespace extdata::http {

struct RetryPolicy {
  int max_attempts = 5;  // first try included
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30'000};
  // Cap on one wait, including a server's Retry-After (SharePoint guidance: 300 s).
  std::chrono::milliseconds max_retry_after{300'000};
};

bool is_retryable_status(long status);  // 429, 502, 503, 504

// Parses Retry-After: delta-seconds (fractional accepted, "2.128") or an HTTP date
// (IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now`.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           Clock::time_point now);

// Exponential backoff with full jitter for attempt n (1 = first retry).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

}  // namespace extdata::http
