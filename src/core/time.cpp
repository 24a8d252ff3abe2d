#include "core/time.h"

#include <charconv>
#include <chrono>

namespace extdata {

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr size_t kMaxTimestampLength = 64;

struct Cursor {
  std::string_view text;
  size_t pos = 0;

  // Exactly `width` digits, or nullopt.
  std::optional<int> digits(size_t width) {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < width; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos += width;
    return value;
  }
  bool eat(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool eat_any(std::string_view set) {
    if (pos < text.size() && set.find(text[pos]) != std::string_view::npos) {
      ++pos;
      return true;
    }
    return false;
  }
};

Error bad_timestamp(std::string_view text, size_t pos, std::string_view expected) {
  Error e("time.bad_timestamp",
          "'" + std::string(text.substr(0, kMaxTimestampLength)) +
              "' is not an RFC 3339 timestamp: expected " + std::string(expected) +
              " at position " + std::to_string(pos),
          "write e.g. 2026-12-01T14:50:37Z");
  e.with("position", std::to_string(pos));
  return e;
}

std::string two(unsigned value) {
  return std::string(1, static_cast<char>('0' + value / 10)) + static_cast<char>('0' + value % 10);
}

std::string date_of(sys_days day) {
  const year_month_day ymd(day);
  const int y = static_cast<int>(ymd.year());
  std::string year = std::to_string(y < 0 ? -y : y);
  while (year.size() < 4) year.insert(year.begin(), '0');
  return (y < 0 ? "-" : "") + year + "-" + two(static_cast<unsigned>(ymd.month())) + "-" +
         two(static_cast<unsigned>(ymd.day()));
}

}  // namespace

std::int64_t unix_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Clock::time_point from_unix_seconds(std::int64_t seconds) {
  return Clock::time_point{std::chrono::seconds{seconds}};
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string format_date(Clock::time_point t) {
  return date_of(std::chrono::floor<days>(t));
}

std::string format_rfc3339(Clock::time_point t) {
  const auto day = std::chrono::floor<days>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(t - day).count();
  return date_of(day) + "T" + two(static_cast<unsigned>(secs / 3600)) + ":" +
         two(static_cast<unsigned>(secs / 60 % 60)) + ":" + two(static_cast<unsigned>(secs % 60)) +
         "Z";
}

Result<Clock::time_point> parse_rfc3339(std::string_view text) {
  if (text.size() > kMaxTimestampLength) return bad_timestamp(text, kMaxTimestampLength, "the end");
  Cursor in{text};
  const auto year = in.digits(4);
  if (!year) return bad_timestamp(text, in.pos, "a four-digit year");
  if (!in.eat('-')) return bad_timestamp(text, in.pos, "'-'");
  const auto month = in.digits(2);
  if (!month || !in.eat('-')) return bad_timestamp(text, in.pos, "a two-digit month and '-'");
  const size_t day_pos = in.pos;
  const auto day = in.digits(2);
  if (!day) return bad_timestamp(text, in.pos, "a two-digit day");
  const year_month_day ymd{std::chrono::year{*year},
                           std::chrono::month{static_cast<unsigned>(*month)},
                           std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return bad_timestamp(text, day_pos - 3, "a calendar date");
  if (!in.eat_any("Tt ")) return bad_timestamp(text, in.pos, "'T'");
  const size_t time_pos = in.pos;
  const auto hour = in.digits(2);
  if (!hour || !in.eat(':')) return bad_timestamp(text, in.pos, "a two-digit hour and ':'");
  const auto minute = in.digits(2);
  if (!minute || !in.eat(':')) return bad_timestamp(text, in.pos, "two-digit minutes and ':'");
  const auto second = in.digits(2);
  if (!second) return bad_timestamp(text, in.pos, "two-digit seconds");
  if (*hour > 23 || *minute > 59 || *second > 59)
    return bad_timestamp(text, time_pos, "a time of day from 00:00:00 to 23:59:59");
  std::chrono::microseconds fraction{0};
  if (in.eat('.')) {
    const size_t start = in.pos;
    long long micros = 0;
    size_t count = 0;
    while (in.pos < text.size() && text[in.pos] >= '0' && text[in.pos] <= '9') {
      if (count < 6) micros = micros * 10 + (text[in.pos] - '0');
      ++count;
      ++in.pos;
    }
    if (in.pos == start) return bad_timestamp(text, in.pos, "a digit after '.'");
    for (; count < 6; ++count) micros *= 10;
    fraction = std::chrono::microseconds{micros};
  }
  std::chrono::minutes offset{0};
  if (!in.eat_any("Zz")) {
    const size_t sign_pos = in.pos;
    const bool plus = in.eat('+');
    if (!plus && !in.eat('-')) return bad_timestamp(text, in.pos, "'Z' or an offset like +02:00");
    const auto oh = in.digits(2);
    if (!oh || !in.eat(':')) return bad_timestamp(text, in.pos, "an offset like +02:00");
    const auto om = in.digits(2);
    if (!om || *oh > 23 || *om > 59) return bad_timestamp(text, sign_pos, "an offset like +02:00");
    offset = std::chrono::minutes{(*oh * 60 + *om) * (plus ? 1 : -1)};
  }
  if (in.pos != text.size()) return bad_timestamp(text, in.pos, "the end");
  const auto local = sys_days(ymd) + std::chrono::hours{*hour} + std::chrono::minutes{*minute} +
                     std::chrono::seconds{*second} + fraction;
  return Clock::time_point{
      std::chrono::duration_cast<Clock::time_point::duration>((local - offset).time_since_epoch())};
}

std::optional<double> parse_duration_seconds(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || end != text.data() + i) return std::nullopt;
  const std::string_view unit = text.substr(i);
  if (unit.empty() || unit == "s") return value;
  if (unit == "ms") return value * 0.001;
  if (unit == "m" || unit == "min") return value * 60;
  if (unit == "h") return value * 3600;
  if (unit == "d") return value * 86400;
  return std::nullopt;
}

}  // namespace extdata
