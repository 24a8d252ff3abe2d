#include "http/curl_client.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include "core/log.h"
#include "core/redact.h"
#include "core/url.h"

namespace extdata::http {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_global_init() {
  static CurlGlobal init;
  (void)init;
}

// Room left after a body whose length was announced: parsers such as simdjson read up to 64
// bytes past the end and would otherwise copy a multi-megabyte page to get it.
constexpr size_t kBodyTailRoom = 64;

struct Transfer {
  CURL* handle = nullptr;
  std::string body;
  Headers headers;
  size_t limit = 0;
  bool too_large = false;
  bool sized = false;
};

// Sizes the body once from Content-Length (when it is the size of what we receive, i.e. not
// compressed), so a large page is received without the copies of repeated growth.
void reserve_announced_length(Transfer& t) {
  t.sized = true;
  curl_off_t length = -1;
  if (curl_easy_getinfo(t.handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK ||
      length <= 0 || static_cast<size_t>(length) > t.limit ||
      find_header(t.headers, "content-encoding"))
    return;
  t.body.reserve(static_cast<size_t>(length) + kBodyTailRoom);
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->body.size() + bytes > t->limit) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (!t->sized) reserve_announced_length(*t);
  t->body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    t->headers.clear();  // a new response (after 100-continue or a redirect)
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->headers.emplace_back(std::string(name), std::string(value));
  return bytes;
}

// What the opensocket callback checks each connection against, and what it refused.
struct ConnectGuard {
  const NetworkPolicy* policy = nullptr;
  std::string host;  // as in the URL
  bool proxied = false;
  std::optional<Error> refused;
};

std::optional<std::pair<IpAddress, int>> address_of(const curl_sockaddr& a) {
  IpAddress ip;
  if (a.family == AF_INET && a.addrlen >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
    std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
    return std::pair{ip, static_cast<int>(ntohs(in->sin_port))};
  }
  if (a.family == AF_INET6 && a.addrlen >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.addr);
    ip.family = IpAddress::Family::v6;
    std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
    return std::pair{ip, static_cast<int>(ntohs(in6->sin6_port))};
  }
  return std::nullopt;
}

// libcurl calls this with the address it is about to connect to (after DNS, for every address
// it tries); refusing returns CURL_SOCKET_BAD, which ends in CURLE_COULDNT_CONNECT.
curl_socket_t open_checked_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* guard = static_cast<ConnectGuard*>(user);
  if (!guard->proxied) {
    auto target = address_of(*address);
    std::optional<Error> refusal =
        target ? guard->policy->check(guard->host, target->second, target->first)
               : Error("network.blocked", "connecting to " + guard->host +
                                              " over an unknown address family is not allowed");
    if (refusal) {
      if (!guard->refused) guard->refused = std::move(refusal);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype, address->protocol);
}

// Headers that describe the request's content rather than who sends it; the only ones kept
// when a redirect leaves the origin.
bool is_portable_header(std::string_view name) {
  for (std::string_view keep : {"accept", "accept-language", "content-type"})
    if (name.size() == keep.size() && strncasecmp(name.data(), keep.data(), keep.size()) == 0)
      return true;
  return false;
}

// libcurl calls this about once a second even while nothing arrives: a stopping process
// aborts hanging transfers here (CURLE_ABORTED_BY_CALLBACK).
int on_transfer_progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const CancelSignal*>(cancel)->cancelled() ? 1 : 0;
}

Error cancelled_error(const std::string& url) {
  return Error("http.cancelled",
               "the request to " + redact(url) + " was cancelled: extdata is stopping",
               "Send it again once the server is back.");
}

Error curl_error(CURLcode code, const std::string& url, const char* detail) {
  std::string where = redact(url);
  std::string what = detail && *detail ? detail : curl_easy_strerror(code);
  Error e;
  switch (code) {
    case CURLE_ABORTED_BY_CALLBACK:
      return cancelled_error(url);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_PROXY:
      e = Error("http.connect", "could not connect to " + where + ": " + what,
                "Check the URL, DNS and proxy settings, and that the server is up.");
      break;
    case CURLE_OPERATION_TIMEDOUT:
      e = Error("http.timeout", "request to " + where + " timed out: " + what,
                "The server is slow or unreachable; raise the source's timeout or try later.");
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
      e = Error("http.tls", "TLS with " + where + " failed: " + what,
                "If the server uses a private CA, set the CA bundle option to its PEM file.");
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      e = Error("http.bad_url", "'" + where + "' is not a usable URL: " + what,
                "Use an absolute http:// or https:// URL.");
      break;
    default:
      e = Error("http.transfer", "transfer from " + where + " failed: " + what,
                "The connection broke off; it was retried. Try again later.");
  }
  e.with("curl_code", std::to_string(static_cast<int>(code)));
  return e;
}

}  // namespace

struct CurlHttpClient::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;
  // The policy each handle's cached connections were checked against. A connection made under
  // an older policy (before a reload narrowed it) is not reused: its socket was never checked
  // against the current one.
  std::map<CURL*, std::shared_ptr<const NetworkPolicy>> checked_under;
  bool reuse_allowed(CURL* h, const std::shared_ptr<const NetworkPolicy>& policy) {
    std::lock_guard lock(mu);
    auto& last = checked_under[h];
    const bool same = last == policy;
    last = policy;
    return same;
  }
  std::mt19937_64 rng{std::random_device{}()};
  ~Pool() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
  CURL* take() {
    std::lock_guard lock(mu);
    if (idle.empty()) return curl_easy_init();
    CURL* h = idle.back();
    idle.pop_back();
    return h;
  }
  void give(CURL* h) {
    std::lock_guard lock(mu);
    idle.push_back(h);
  }
};

CurlHttpClient::CurlHttpClient(CurlOptions options, Clock* clock, Metrics* metrics)
    : options_(std::move(options)),
      clock_(clock ? clock : &SystemClock::instance()),
      metrics_(metrics ? metrics : &Metrics::global()),
      pool_(std::make_unique<Pool>()) {
  ensure_global_init();
}

CurlHttpClient::~CurlHttpClient() = default;

Result<Response> CurlHttpClient::send(const Request& request) {
  const Labels labels{{"client", options_.metrics_label}};
  Counter& retries = metrics_->counter("extdata_http_retries_total", labels,
                                       "Upstream requests retried after a failure or throttle");
  Counter& throttles = metrics_->counter("extdata_http_throttled_total", labels,
                                         "Upstream responses 429/503 (throttling)");
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    if (options_.cancel && options_.cancel->cancelled()) return cancelled_error(request.url);
    auto result = send_once(request);
    std::optional<std::chrono::milliseconds> wait;
    if (result.ok()) {
      Response& r = result.value();
      r.attempts = attempt;
      if (r.status == 429 || r.status == 503) throttles.inc();
      if (!is_retryable_status(r.status) || attempt >= max_attempts) return result;
      if (auto ra = r.header("Retry-After")) wait = parse_retry_after(*ra, clock_->now());
      log::warn("upstream answered with a retryable status",
                {{"status", std::to_string(r.status)},
                 {"url", request.url},
                 {"attempt", std::to_string(attempt)}});
    } else {
      const auto& code = result.error().code;
      bool retryable = code == "http.connect" || code == "http.transfer" || code == "http.timeout";
      if (!retryable || attempt >= max_attempts) return result;
      log::warn("upstream request failed, retrying",
                {{"error", result.error().message}, {"attempt", std::to_string(attempt)}});
    }
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(pool_->mu);
      delay = wait ? *wait : backoff_delay(options_.retry, attempt, pool_->rng);
    }
    delay = std::min(delay, options_.retry.max_retry_after);
    retries.inc();
    clock_->sleep_for(delay);
  }
}

Result<Response> CurlHttpClient::send_once(const Request& request) {
  metrics_
      ->counter("extdata_http_requests_total", {{"client", options_.metrics_label}},
                "Upstream HTTP requests sent (each attempt and redirect)")
      .inc();
  std::string url = request.url;
  Headers headers = request.headers;
  std::string method = request.method;
  std::string body = request.body;
  auto http_auth = request.http_auth;
  auto first = Url::parse(url);
  if (!first.ok() || !first->is_http())
    return Error("http.bad_url", "'" + redact(url) + "' is not a valid absolute URL",
                 "Use an absolute http:// or https:// URL.");
  Url current = *first;
  const std::shared_ptr<const NetworkPolicy> policy =
      options_.policy ? options_.policy : NetworkPolicy::process();
  curl_slist* resolve = nullptr;
  for (const auto& entry : options_.resolve) resolve = curl_slist_append(resolve, entry.c_str());
  struct FreeList {
    curl_slist* list;
    ~FreeList() { curl_slist_free_all(list); }
  } free_resolve{resolve};

  for (int redirects = 0;; ++redirects) {
    ConnectGuard guard{policy.get(), current.host(), false, std::nullopt};
    const std::string proxy = proxy_for(current);
    if (!proxy.empty()) {
      guard.proxied = true;
      if (auto refusal = policy->check_proxied(current)) return *refusal;
    }
    CURL* h = pool_->take();
    if (!h) return Error("http.internal", "could not create an HTTP handle", "");
    curl_easy_reset(h);
    Transfer t;
    t.handle = h;
    t.limit = options_.max_response_bytes;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    auto total = request.timeout.value_or(options_.total_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (options_.ca_bundle) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle->c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, pool_->reuse_allowed(h, policy) ? 0L : 1L);
    // The proxy decided above (empty: none), so that what was checked is what is used.
    curl_easy_setopt(h, CURLOPT_PROXY, proxy.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, "");
    if (resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    if (options_.cancel) {
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_transfer_progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, options_.cancel);
    }
    if (method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    if (http_auth) {
      curl_easy_setopt(
          h, CURLOPT_HTTPAUTH,
          http_auth->scheme == Request::HttpAuth::Scheme::ntlm ? CURLAUTH_NTLM : CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, http_auth->user.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, http_auth->password.c_str());
    }
    curl_slist* list = nullptr;
    for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
    // libcurl adds "Expect: 100-continue" for large bodies; it costs a round trip.
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);

    auto started = std::chrono::steady_clock::now();
    CURLcode code = curl_easy_perform(h);
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    pool_->give(h);

    if (t.too_large)
      return Error("http.too_large",
                   "the response from " + redact(url) + " is larger than the limit of " +
                       std::to_string(options_.max_response_bytes) + " bytes",
                   "Narrow the request (select fewer columns, page through the data) or raise "
                   "the maximum response size.")
          .with("limit_bytes", std::to_string(options_.max_response_bytes));
    if (code != CURLE_OK && guard.refused) return *guard.refused;
    if (code != CURLE_OK) return curl_error(code, url, errbuf);

    Response r;
    r.status = status;
    r.headers = std::move(t.headers);
    r.body = std::move(t.body);
    r.effective_url = url;
    r.elapsed = elapsed;
    bool is_redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    auto location = r.header("Location");
    if (!is_redirect || !location) return r;
    if (redirects >= options_.max_redirects)
      return Error("http.redirect",
                   "too many redirects (more than " + std::to_string(options_.max_redirects) +
                       ") starting at " + redact(request.url),
                   "Point the source at the final URL.");
    auto next = current.resolve(*location);
    if (!next.ok() || !next->is_http())
      return Error("http.redirect", "refused a redirect to '" + redact(*location) + "'",
                   "Only http and https redirects are followed.");
    if (!next->same_origin(*first)) {
      if (options_.follow_redirects != CurlOptions::Redirects::any)
        return Error("http.redirect",
                     "refused a redirect from " + current.origin() + " to another origin, " +
                         next->origin() + " (" + redact(request.url) + ")",
                     "point the source at the final URL, or set follow_redirects: any to follow "
                     "it (credentials and the source's headers are not sent to another origin)")
            .with("location", redact(next->str()));
      if ((status == 307 || status == 308) && !body.empty())
        return Error("http.redirect",
                     "refused a " + std::to_string(status) +
                         " redirect that would resend the "
                         "request body to another origin, " +
                         next->origin(),
                     "point the source at the final URL; a body may hold credentials");
      // Credentials and the caller's headers are bound to the first origin, whatever their
      // names: only the content-negotiation headers go on.
      std::erase_if(headers, [](const auto& h) { return !is_portable_header(h.first); });
      http_auth.reset();
    }
    if (status == 303 || ((status == 301 || status == 302) && method == "POST")) {
      method = "GET";
      body.clear();
    }
    current = std::move(next).value();
    url = current.str();
  }
}

std::string url_encode(std::string_view value) {
  return percent_encode(value);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(k);
    out += '=';
    out += url_encode(v);
  }
  return out;
}

}  // namespace extdata::http
