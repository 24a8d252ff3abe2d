#include "internal.h"

#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace graphsim {

std::string random_guid() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    static std::atomic<unsigned long long> fallback{0};
    return derived_guid("fallback:" + std::to_string(++fallback));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '$' || c == '(' ||
        c == ')' || c == ',' || c == '/' || c == ':') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

namespace {
std::string strftime_utc(TimePoint t, const char* format) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string graph_date(TimePoint t) {
  return strftime_utc(t, "%Y-%m-%dT%H:%M:%S");
}
std::string entra_timestamp(TimePoint t) {
  return strftime_utc(t, "%Y-%m-%d %H:%M:%SZ");
}

}  // namespace graphsim
