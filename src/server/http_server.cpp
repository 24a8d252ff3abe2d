#include "server/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error_codes.h"
#include "core/error_json.h"
#include "core/log.h"

namespace extdata::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------- helpers

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(percent_decode(part, true), "");
    else
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       percent_decode(part.substr(eq + 1), true));
  }
  return out;
}

std::optional<std::string> target_problem(std::string_view target) {
  if (target.empty() || target.front() != '/')
    return "the request target must start with '/' (origin form)";
  const std::string_view path = target.substr(0, target.find('?'));
  if (target.find('\0') != std::string_view::npos ||
      percent_decode(path, false).find('\0') != std::string::npos)
    return "the request path contains a NUL character";
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

std::string Request::base_url() const {
  auto host = header("Host");
  return std::string(tls ? "https://" : "http://") + (host ? *host : "localhost");
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Handler sync_handler(std::function<Response(const Request&)> fn) {
  return [fn = std::move(fn)](const Request& req, Respond respond) { respond(fn(req)); };
}

// ---------------------------------------------------------------- sessions

namespace {

struct Shared {
  Handler handler;
  ServerOptions options;
  asio::io_context* ioc = nullptr;
  // Requests given to the handler whose answer is not written yet (drain() waits for none).
  std::mutex mu;
  std::condition_variable idle;
  size_t unanswered = 0;
  std::atomic<bool> draining{false};

  void request_started() {
    std::lock_guard lock(mu);
    ++unanswered;
  }
  void request_answered() {
    std::lock_guard lock(mu);
    if (--unanswered == 0) idle.notify_all();
  }
};

Request to_request(const bhttp::request<bhttp::string_body>& msg, const std::string& remote,
                   bool tls) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::string_view target(msg.target().data(), msg.target().size());
  size_t q = target.find('?');
  req.path = percent_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) req.query = parse_query(target.substr(q + 1));
  for (const auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = msg.body();
  req.remote_address = remote;
  req.tls = tls;
  return req;
}

// Bytes that are not an HTTP/1.1 request (a folded or malformed header line, a bad method or
// version, a head over the limit) get a 400 naming the problem instead of a silently closed
// connection; a client that went away mid-request is not one of them.
bool is_unparsable_request(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::partial_message && ec != bhttp::error::need_more &&
         ec != bhttp::error::end_of_stream;
}

Error unparsable_request_error(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit)
    return Error("request.malformed", "The request line and headers exceed 65536 bytes.",
                 "Send fewer or shorter headers.");
  return Error("request.malformed", "The request is not valid HTTP/1.1: " + ec.message() + ".",
               "Send a well-formed HTTP/1.1 request (RFC 9112): CRLF line endings, one header "
               "per line (folded continuation lines are not accepted), a known method.");
}

Response bad_target_response(const std::string& problem) {
  return Response::json(400, R"({"error":{"code":"request.bad_target","message":")" + problem +
                                 R"(.","hint":"Send a path such as /api/v1/... ."}})");
}

template <class Stream, class Derived>
class SessionBase {
 public:
  explicit SessionBase(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    beast::get_lowest_layer(self().stream()).expires_after(shared_->options.idle_timeout);
    bhttp::async_read(
        self().stream(), buffer_, *parser_,
        [s = self().shared_from_this()](beast::error_code ec, size_t) { s->on_read(ec); });
  }

 public:
  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) return self().do_close();
    if (ec == bhttp::error::body_limit) {
      const Error error("request.too_large",
                        "The request body exceeds the limit of " +
                            std::to_string(shared_->options.max_body_bytes) + " bytes.",
                        "Send a smaller body.");
      Response r = Response::json(http_status(error), error_document(error).dump());
      keep_alive_ = false;
      return write_response(std::move(r), 11);
    }
    if (ec && is_unparsable_request(ec)) {
      keep_alive_ = false;
      const Error error = unparsable_request_error(ec);
      return write_response(Response::json(http_status(error), error_document(error).dump()), 11);
    }
    if (ec) return;  // timeouts, resets, a client gone mid-request: nobody to answer
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == bhttp::verb::head;
    if (auto problem = target_problem({msg.target().data(), msg.target().size()})) {
      keep_alive_ = false;
      return write_response(bad_target_response(*problem), version_);
    }
    Request req = to_request(msg, remote_, Derived::kTls);
    auto self_ptr = self().shared_from_this();
    shared_->request_started();
    awaiting_answer_ = true;
    // The handler may answer from another thread: hop back onto this connection's strand.
    shared_->handler(req, [self_ptr](Response response) {
      asio::post(self_ptr->stream().get_executor(), [self_ptr, r = std::move(response)]() mutable {
        self_ptr->start_response(std::move(r));
      });
    });
  }

  void start_response(Response r) {
    if (r.delay.count() > 0) {
      timer_ = std::make_unique<asio::steady_timer>(self().stream().get_executor());
      timer_->expires_after(r.delay);
      auto delay_done = [s = self().shared_from_this(),
                         r = std::move(r)](beast::error_code) mutable {
        r.delay = std::chrono::milliseconds{0};
        s->start_response(std::move(r));
      };
      timer_->async_wait(std::move(delay_done));
      return;
    }
    write_response(std::move(r), version_);
  }

  void write_response(Response r, unsigned version) {
    if (shared_->draining) keep_alive_ = false;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, "extdata");
    for (auto& [k, v] : r.headers) res->insert(k, v);
    const size_t full = r.body.size();
    if (r.close_after_body_bytes && *r.close_after_body_bytes < full) {
      // Announce the whole body, send part of it, then drop the connection.
      res->body() = r.body.substr(0, *r.close_after_body_bytes);
      res->content_length(full);
      keep_alive_ = false;
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*res);
      bhttp::async_write(self().stream(), *sr,
                         [s = self().shared_from_this(), res, sr](beast::error_code, size_t) {
                           s->answered();
                           beast::error_code ignored;
                           beast::get_lowest_layer(s->stream())
                               .socket()
                               .shutdown(tcp::socket::shutdown_both, ignored);
                           beast::get_lowest_layer(s->stream()).close();
                         });
      return;
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    if (head_) res->body().clear();
    bhttp::async_write(self().stream(), *res,
                       [s = self().shared_from_this(), res](beast::error_code ec, size_t) {
                         s->answered();
                         if (ec) return;
                         if (!s->keep_alive_) return s->do_close();
                         s->do_read();
                       });
  }

  // The handler's answer to the request being served is written (or failed to be).
  void answered() {
    if (!awaiting_answer_) return;
    awaiting_answer_ = false;
    shared_->request_answered();
  }

 protected:
  std::shared_ptr<Shared> shared_;
  bool awaiting_answer_ = false;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<asio::steady_timer> timer_;
  std::string remote_;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

class PlainSession : public SessionBase<beast::tcp_stream, PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  static constexpr bool kTls = false;
  PlainSession(tcp::socket socket, std::shared_ptr<Shared> shared)
      : SessionBase(std::move(shared)), stream_(std::move(socket)) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }
  beast::tcp_stream& stream() { return stream_; }
  void run() {
    asio::dispatch(stream_.get_executor(), [s = shared_from_this()] { s->do_read(); });
  }
  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

 private:
  beast::tcp_stream stream_;
};

class TlsSession : public SessionBase<beast::ssl_stream<beast::tcp_stream>, TlsSession>,
                   public std::enable_shared_from_this<TlsSession> {
 public:
  static constexpr bool kTls = true;
  TlsSession(tcp::socket socket, asio::ssl::context& ctx, std::shared_ptr<Shared> shared)
      : SessionBase(std::move(shared)), stream_(std::move(socket), ctx) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void run() {
    asio::dispatch(stream_.get_executor(), [s = shared_from_this()] {
      beast::get_lowest_layer(s->stream_).expires_after(std::chrono::seconds(30));
      s->stream_.async_handshake(asio::ssl::stream_base::server, [s](beast::error_code ec) {
        if (!ec) s->do_read();
      });
    });
  }
  void do_close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([s = shared_from_this()](beast::error_code) {});
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

// ---------------------------------------------------------------- raw requests

std::variant<Request, Response> read_raw_request(std::string_view bytes,
                                                 const ServerOptions& options) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(64 * 1024);
  parser.eager(true);
  beast::error_code ec;
  size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
  (void)used;
  if (ec == bhttp::error::body_limit)
    return Response::json(413, R"({"error":{"code":"request.too_large"}})");
  if (ec == bhttp::error::need_more) {
    ec = {};
    parser.put_eof(ec);
  }
  if (ec || !parser.is_done()) {
    const Error error = unparsable_request_error(ec ? ec : bhttp::error::partial_message);
    return Response::json(http_status(error), error_document(error).dump());
  }
  auto msg = parser.release();
  if (auto problem = target_problem({msg.target().data(), msg.target().size()}))
    return bad_target_response(*problem);
  return to_request(msg, "127.0.0.1", false);
}

// ---------------------------------------------------------------- server

struct HttpServer::Impl {
  ServerOptions options;
  std::shared_ptr<Shared> shared;
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl;
  std::optional<tcp::acceptor> acceptor;
  // Keeps the threads running while a draining server waits for answers from other threads
  // (with the acceptor closed, nothing else may be pending).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::condition_variable stopped_cv;
  bool stopped = false;
  bool running = false;
  uint16_t port = 0;
  std::string host;

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
      } else if (ssl) {
        std::make_shared<TlsSession>(std::move(s), *ssl, shared)->run();
      } else {
        std::make_shared<PlainSession>(std::move(s), shared)->run();
      }
      if (acceptor && acceptor->is_open()) accept();
    });
  }
};

HttpServer::HttpServer(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->shared = std::make_shared<Shared>();
  impl_->shared->handler = std::move(handler);
  impl_->shared->options = std::move(options);
  impl_->shared->ioc = &impl_->ioc;
}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::start() {
  const std::string& listen = impl_->options.listen;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return Error("server.bad_listen", "listen address '" + listen + "' has no port",
                 "Use host:port, for example 127.0.0.1:8080 (port 0 picks a free port).");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    return Error("server.bad_listen", "listen port in '" + listen + "' is not a number 0-65535",
                 "Use host:port, for example 127.0.0.1:8080.");
  beast::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec)
    return Error("server.bad_listen", "listen host '" + host + "' is not an IP address",
                 "Use an address such as 127.0.0.1 or 0.0.0.0.");

  if (impl_->options.tls_cert_file || impl_->options.tls_key_file) {
    if (!impl_->options.tls_cert_file || !impl_->options.tls_key_file)
      return Error("server.tls", "TLS needs both a certificate and a private key file",
                   "Pass --tls-cert FILE and --tls-key FILE together.");
    impl_->ssl.emplace(asio::ssl::context::tls_server);
    impl_->ssl->use_certificate_chain_file(*impl_->options.tls_cert_file, ec);
    if (ec)
      return Error(
          "server.tls",
          "cannot load TLS certificate " + *impl_->options.tls_cert_file + ": " + ec.message(),
          "Point --tls-cert at a PEM certificate (chain) file.");
    impl_->ssl->use_private_key_file(*impl_->options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec)
      return Error("server.tls",
                   "cannot load TLS key " + *impl_->options.tls_key_file + ": " + ec.message(),
                   "Point --tls-key at the PEM private key of the certificate.");
  }

  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  impl_->acceptor.emplace(asio::make_strand(impl_->ioc));
  impl_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(endpoint, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error("server.bind", "cannot listen on " + listen + ": " + ec.message(),
                 "Choose another port, or stop the process that uses it.");
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->host = address.to_string();
  impl_->accept();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->running = true;
  int threads = std::max(1, impl_->options.threads);
  for (int i = 0; i < threads; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return ok_status();
}

bool HttpServer::drain(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->running) return true;
  impl_->shared->draining = true;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  std::unique_lock lock(impl_->shared->mu);
  return impl_->shared->idle.wait_for(lock, grace,
                                      [this] { return impl_->shared->unanswered == 0; });
}

void HttpServer::stop() {
  if (!impl_ || !impl_->running) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  impl_->running = false;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = true;
  }
  impl_->stopped_cv.notify_all();
}

void HttpServer::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

uint16_t HttpServer::port() const {
  return impl_->port;
}
std::string HttpServer::host() const {
  return impl_->host;
}
std::string HttpServer::url() const {
  std::string h =
      impl_->host.find(':') != std::string::npos ? "[" + impl_->host + "]" : impl_->host;
  return std::string(impl_->ssl ? "https://" : "http://") + h + ":" + std::to_string(impl_->port);
}

}  // namespace extdata::server
