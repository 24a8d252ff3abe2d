#include "cli/serve_commands.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/api_server.h"
#include "api/oauth_connect.h"
#include "api/store_tokens.h"
#include "auth/diagnostics.h"
#include "cli/network_options.h"
#include "cli/operator_settings.h"
#include "core/log.h"
#include "core/shutdown.h"
#include "core/strings.h"
#include "core/time.h"

namespace extdata::cli {

using nlohmann::json;

namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  int workers = 8;
  bool anonymous_read = false;
  int options_cache_mb = static_cast<int>(fields::kDefaultRenderedOptionsBytes >> 20);
  long long store_tables_from = fields::FieldService::kDefaultStoreTablesFrom;
  int lease_ttl = 30;
  std::vector<std::string> cors;
  std::string web_dir;
  std::string public_url;
  std::string log_level = "info";
  std::string log_format = "text";
};

std::string default_web_dir() {
  // Next to the binary when installed (../share/extdata/web), else the source tree's web/.
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = exe.parent_path().parent_path() / "share" / "extdata" / "web";
    if (std::filesystem::exists(installed / "index.html")) return installed.string();
  }
  return EXTDATA_WEB_DIR;
}

// Says at start what --anonymous-read gives to anyone who can reach the server.
static void warn_anonymous_read(store::Store& store) {
  auto fields = store.list_fields();
  std::string exposed;
  for (const auto& field : fields.ok() ? *fields : std::vector<config::FieldConfig>{}) {
    exposed += exposed.empty() ? "" : ", ";
    exposed += field.name;
    if (const auto data = field.spec.find("data"); data != field.spec.end() && data->is_object()) {
      std::string keys;
      for (const auto& [key, value] : data->items()) keys += (keys.empty() ? "" : " ") + key;
      if (!keys.empty()) exposed += " (data: " + keys + ")";
    }
  }
  std::cerr << "warning: --anonymous-read: anyone who can reach this server reads the options and "
               "values of every field without a token: "
            << (exposed.empty() ? "(no fields yet)" : exposed) << "\n";
}

// How long a stop may take (docs/security.md, "Stopping"): requests in flight get kDrainGrace
// to finish once their upstream transfers are cancelled; whatever still runs after
// kForcedExitAfter (a handler stuck outside libcurl) does not keep the process alive.
constexpr std::chrono::seconds kDrainGrace{5};
constexpr std::chrono::seconds kForcedExitAfter{10};

void stop_within_bounds(api::ApiServer& server) {
  process_shutdown().cancel();
  std::thread([] {
    std::this_thread::sleep_for(kForcedExitAfter);  // not the Clock: it wakes on shutdown
    log::error("did not stop in time; exiting",
               {{"after_s", std::to_string(kForcedExitAfter.count())}});
    std::_Exit(1);
  }).detach();
  if (!server.drain(kDrainGrace))
    log::warn("requests still running after the drain grace; stopping anyway",
              {{"grace_s", std::to_string(kDrainGrace.count())}});
}

// SIGHUP: the operator settings file is read again (operator_settings.h); connections and
// requests in flight are not touched.
void reload(const RunningServer& running) {
  const char* file = std::getenv("EXTDATA_SETTINGS_FILE");
  if (!file || !*file) {
    log::warn("reload: nothing to reload", {{"hint",
                                             "set EXTDATA_SETTINGS_FILE to the settings "
                                             "file (the package sets "
                                             "/etc/extdata/extdata.env)"}});
    return;
  }
  auto changed = reload_operator_settings(file, running);
  if (!changed.ok()) {
    log::error("reload failed", {{"error", changed.error().to_string()}});
    return;
  }
  log::info("reloaded", {{"file", file}, {"settings", *changed}});
}

void serve(CliEnv& env, const ServeOptions& o) {
  log::init(o.log_level, o.log_format);
  // Block termination signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  if (o.anonymous_read) warn_anonymous_read(**store);
  // Instances on one store take turns through its leases (docs/scaling.md).
  cache::CacheOptions cache_options;
  cache_options.cluster.holder = api::new_instance_id();
  cache_options.cluster.lease_ttl = std::chrono::seconds(o.lease_ttl);
  log::info("instance", {{"id", cache_options.cluster.holder}});
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global(),
                       std::move(cache_options), static_cast<size_t>(o.options_cache_mb) << 20);
  runtime.fields().set_store_tables_from(static_cast<size_t>(o.store_tables_from));
  api::ApiOptions options;
  options.server.listen = o.listen;
  options.server.threads = o.threads;
  options.workers = o.workers;
  options.anonymous_read = o.anonymous_read;
  options.cors_origins = {o.cors.begin(), o.cors.end()};
  options.web_dir = o.web_dir.empty() ? default_web_dir() : o.web_dir;
  auto public_url = api::resolve_public_url(o.public_url, "");
  if (!public_url.ok()) return env.fail(public_url.error());
  options.public_url = *public_url;
  api::ApiServer server(runtime, options);
  if (auto s = server.start(); !s.ok()) return env.fail(s.error());
  refuse_own_address(server.url());
  std::cout << "extdata listening on " << server.url() << std::endl;
  log::info("serving",
            {{"url", server.url()}, {"data", env.store_name()}, {"web", options.web_dir}});
  const RunningServer running{server.url(), o.listen, env.data_dir(), o.log_format};
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) reload(running);
    log::info("stopping", {{"signal", std::to_string(sig)}});
    stop_within_bounds(server);
  });
  server.wait();
  waiter.join();
}

// "59 minutes", "2 hours", "45 seconds".
std::string duration_words(std::int64_t seconds) {
  auto words = [](std::int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (seconds < 120) return words(seconds, "second");
  if (seconds < 7200) return words(seconds / 60, "minute");
  return words(seconds / 3600, "hour");
}

void auth_cmd(CliEnv& env, const std::string& name, bool show_token) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  auto src = runtime.source(name);
  if (!src.ok()) return env.fail(src.error());
  auto cred = (*src)->credential();
  if (!cred) {
    if (env.json())
      return env.print({{"ok", true},
                        {"token_type", "none"},
                        {"claims", json::object()},
                        {"warnings", json::array()}});
    std::cout << "source " << name << " uses no credentials\n";
    return;
  }
  auto report = auth::authenticate(*cred, runtime.clock());
  if (!report.ok()) return env.fail(report.error());
  json out = auth::to_json(*report, show_token);
  if (env.json()) return env.print(out);
  std::cout << "ok: " << report->method << " credential works\n";
  std::cout << "token type: " << report->token_type << "\n";
  const auto now = runtime.clock().now();
  if (report->expires_in)
    std::cout << "expires: " << format_rfc3339(now + std::chrono::seconds(*report->expires_in))
              << " (in " << duration_words(*report->expires_in) << ")\n";
  for (auto it = report->claims.begin(); it != report->claims.end(); ++it) {
    std::cout << it.key() << ": ";
    // JWT times (RFC 7519 §4.1.4-6) are Unix seconds: shown as times.
    const bool is_time = it.key() == "exp" || it.key() == "iat" || it.key() == "nbf";
    if (is_time && it->is_number())
      std::cout << format_rfc3339(from_unix_seconds(it->get<std::int64_t>()));
    else
      std::cout << (it->is_string() ? it->get<std::string>() : it->dump());
    std::cout << "\n";
  }
  for (const auto& w : report->warnings) std::cout << "warning: " << w << "\n";
  if (show_token && !report->token.empty()) std::cout << "token: " << report->token << "\n";
}

void print_connection(CliEnv& env, const json& c) {
  if (env.json()) return env.print(c);
  std::cout << "connected: " << c.value("source", "") << " as " << c.value("connected_by", "")
            << "\nscopes: " << c.value("scope", "") << "\n";
  if (c.contains("token_expires_at") && c["token_expires_at"].is_string())
    std::cout << "access token expires: " << c["token_expires_at"].get<std::string>() << "\n";
}

// A line from stdin when one is ready within `wait`; nullopt otherwise; "" at end of input.
std::optional<std::string> line_within(std::chrono::milliseconds wait, bool& stdin_open) {
  if (!stdin_open) {
    SystemClock::instance().sleep_for(wait);
    return std::nullopt;
  }
  pollfd fd{STDIN_FILENO, POLLIN, 0};
  if (::poll(&fd, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
  std::string line;
  if (!std::getline(std::cin, line)) {
    stdin_open = false;
    return std::nullopt;
  }
  return line;
}

// Authorization code from a terminal: the URL to open; the callback reaches a running
// `extdata serve` at the public URL (seen here as a new connection in the store), or the user
// pastes the address the browser ended on.
void connect_with_browser(CliEnv& env, api::Runtime& runtime, const std::string& name,
                          const std::string& public_url_flag) {
  auto public_url = api::resolve_public_url(public_url_flag, "");
  if (!public_url.ok()) return env.fail(public_url.error());
  auto started = api::begin_sign_in(runtime, name, *public_url);
  if (!started.ok()) return env.fail(started.error());
  auto before = api::connection_json(runtime, name, *public_url);
  const std::string since = before.value("connected_at", json()).is_string()
                                ? before["connected_at"].get<std::string>()
                                : "";
  std::cerr << "Open this address in a browser and sign in:\n\n  "
            << (*started)["authorize_url"].get<std::string>() << "\n\n"
            << "The provider sends the browser back to "
            << (*started)["redirect_uri"].get<std::string>()
            << ".\nA running `extdata serve` there completes the connection by itself; without "
               "one, paste the address the browser ended on here and press Enter.\n";
  bool stdin_open = true;
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(store::kPendingSignInSeconds);
  while (std::chrono::steady_clock::now() < give_up && !process_shutdown().cancelled()) {
    if (auto line = line_within(std::chrono::milliseconds(1000), stdin_open)) {
      const std::string pasted{trim(*line)};
      if (pasted.empty()) continue;
      auto done = api::complete_sign_in_from_url(runtime, pasted);
      if (!done.ok()) return env.fail(done.error());
      return print_connection(env, *done);
    }
    json now = api::connection_json(runtime, name, *public_url);
    if (now.value("state", "") == "connected" && now["connected_at"].is_string() &&
        now["connected_at"].get<std::string>() != since) {
      now["source"] = name;
      return print_connection(env, now);
    }
  }
  env.fail(Error("auth.unknown_state", "the sign-in was not completed within 15 minutes",
                 "run `extdata auth connect " + name + "` again"));
}

void connect_cmd(CliEnv& env, const std::string& name, const std::string& public_url_flag) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  auto src = runtime.source(name);
  if (!src.ok()) return env.fail(src.error());
  auto user = auth::UserOAuth2Credential::of((*src)->credential());
  if (user && user->config().type == auth::UserGrantType::device_code) {
    auto done = api::connect_device(
        runtime, name,
        [](const auth::DeviceAuthorization& d) {
          std::cerr << "To sign in, open " << d.verification_uri << " and enter the code "
                    << d.user_code << "\n";
          if (!d.verification_uri_complete.empty())
            std::cerr << "(or open " << d.verification_uri_complete << ")\n";
          std::cerr << "Waiting for the sign-in…\n";
        },
        [](std::string_view error) {
          if (error == "slow_down") std::cerr << "the provider asked to poll less often\n";
        });
    if (!done.ok()) return env.fail(done.error());
    return print_connection(env, *done);
  }
  connect_with_browser(env, runtime, name, public_url_flag);
}

}  // namespace

void add_serve_commands(CLI::App& app, CliEnv& env) {
  static ServeOptions o;
  auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP API and web UI");
  serve_cmd->add_option("--listen", o.listen, "host:port (port 0 picks a free port)")
      ->envname("EXTDATA_LISTEN");
  serve_cmd->add_option("--threads", o.threads, "Network threads")->check(CLI::Range(1, 64));
  serve_cmd
      ->add_option("--workers", o.workers, "Worker threads for requests that may wait on upstreams")
      ->check(CLI::Range(1, 256));
  serve_cmd->add_flag("--anonymous-read", o.anonymous_read,
                      "Serve option/value endpoints without a token");
  serve_cmd->add_option("--cors-origin", o.cors,
                        "Origin allowed to call the API from a browser (repeatable)");
  serve_cmd
      ->add_option("--options-cache-mb", o.options_cache_mb,
                   "Memory for rendered option pages of repeated queries (0: off)")
      ->check(CLI::Range(0, 65536));
  serve_cmd
      ->add_option("--store-tables-from", o.store_tables_from,
                   "Store a field's option table beside its snapshot when it has at least this "
                   "many records, so a restart loads it instead of rebuilding it (docs/fields.md)")
      ->check(CLI::Range(0LL, 1LL << 40));
  serve_cmd
      ->add_option("--lease-ttl", o.lease_ttl,
                   "Seconds an instance's sync lease outlives its last renewal: how long a "
                   "killed instance holds up the others (docs/scaling.md)")
      ->envname("EXTDATA_LEASE_TTL")
      ->check(CLI::Range(1, 3600));
  serve_cmd->add_option("--web-dir", o.web_dir, "Directory of the web UI's static files");
  serve_cmd->add_option("--public-url", o.public_url,
                        "Where browsers reach this server (default $EXTDATA_PUBLIC_URL, else the "
                        "listening URL); OAuth2 sign-ins return to <public-url>/oauth2/callback");
  serve_cmd->add_option("--log-level", o.log_level)
      ->envname("EXTDATA_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  serve_cmd->add_option("--log-format", o.log_format)->check(CLI::IsMember({"text", "json"}));
  serve_cmd->callback([&env] { serve(env, o); });

  static std::string source;
  static bool show_token = false;
  auto* auth =
      app.add_subcommand("auth", "Authenticate a source's credential (the Authenticate button)");
  auth->add_option("SOURCE", source);
  auth->add_flag("--show-token", show_token, "Also print the access token");
  static std::string connect_source, connect_public_url;
  auto* connect = auth->add_subcommand(
      "connect",
      "Sign in on behalf of a user for a source with grant authorization_code or "
      "device_code (the Connect button)");
  connect->add_option("SOURCE", connect_source)->required();
  connect->add_option("--public-url", connect_public_url,
                      "Where browsers reach extdata serve (default $EXTDATA_PUBLIC_URL): the "
                      "redirect URI is <public-url>/oauth2/callback");
  connect->callback([&env] { connect_cmd(env, connect_source, connect_public_url); });
  auth->callback([&env, connect] {
    if (connect->parsed()) return;
    if (source.empty())
      return env.fail(Error("cli.usage", "auth needs a SOURCE (or: auth connect SOURCE)", ""));
    auth_cmd(env, source, show_token);
  });
}

}  // namespace extdata::cli
