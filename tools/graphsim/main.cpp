// extdata-graphsim: a local Entra ID token endpoint + Microsoft Graph (SharePoint
// lists) simulator for demos, tests and benchmarks. See docs/graphsim.md.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fixture.h"
#include "graphsim.h"
#include "server/http_server.h"
#include "yaml_reader.h"

namespace {

constexpr const char* kUsage = R"(usage: extdata-graphsim --fixture FILE [options]

  --fixture FILE             tenants, apps, sites, lists and items (YAML or JSON)
  --listen HOST:PORT         default 127.0.0.1:0 (a free port); the bound address is printed
  --port-file FILE           also write the bound port to FILE
  --tls-cert FILE            serve https with this PEM certificate ...
  --tls-key FILE             ... and this PEM key (see scripts/gen-test-certs)
  --token-lifetime SECONDS   access token lifetime (default: fixture, else 3599)
  --generate-items LIST=N    add N deterministic items to LIST (repeatable)
  --threads N                server threads (default 2)
  --faults YAML|JSON         initial faults, same format as the fixture's `faults:` section
  --throttle-every N         answer every Nth Graph request with 429 ...
  --throttle-status 429|503  ... or 503
  --retry-after VALUE        Retry-After value (2, 2.128) or "none" for no header
  --latency-ms N             added latency on Graph and token responses
)";

int usage_error(const std::string& message) {
  std::cerr << "extdata-graphsim: " << message << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string fixture_path, port_file, faults_text;
  extdata::server::ServerOptions server_options;
  graphsim::GraphSimOptions sim_options;
  std::vector<std::pair<std::string, int>> generate;
  std::optional<int> throttle_every, throttle_status, latency_ms;
  std::optional<std::string> retry_after;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= args.size()) return usage_error("missing value after " + a);
    const std::string& v = args[++i];
    auto integer = [&](int& out) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < 0 || n > 1'000'000'000) return false;
      out = static_cast<int>(n);
      return true;
    };
    int n = 0;
    if (a == "--fixture") {
      fixture_path = v;
    } else if (a == "--listen") {
      server_options.listen = v;
    } else if (a == "--port-file") {
      port_file = v;
    } else if (a == "--tls-cert") {
      server_options.tls_cert_file = v;
    } else if (a == "--tls-key") {
      server_options.tls_key_file = v;
    } else if (a == "--token-lifetime") {
      if (!integer(n) || n < 1 || n > 86400)
        return usage_error("--token-lifetime: 1..86400 seconds");
      sim_options.token_lifetime_seconds = n;
    } else if (a == "--threads") {
      if (!integer(n) || n < 1 || n > 64) return usage_error("--threads: 1..64");
      server_options.threads = n;
    } else if (a == "--generate-items") {
      size_t eq = v.rfind('=');
      char* end = nullptr;
      long count = eq == std::string::npos ? -1 : std::strtol(v.c_str() + eq + 1, &end, 10);
      if (eq == std::string::npos || eq == 0 || count < 0 || *end != '\0') {
        return usage_error("--generate-items expects LIST=N, e.g. Customers=100000");
      }
      generate.emplace_back(v.substr(0, eq), static_cast<int>(count));
    } else if (a == "--faults") {
      faults_text = v;
    } else if (a == "--throttle-every") {
      if (!integer(n)) return usage_error("--throttle-every: a count");
      throttle_every = n;
    } else if (a == "--throttle-status") {
      if (!integer(n) || (n != 429 && n != 503))
        return usage_error("--throttle-status: 429 or 503");
      throttle_status = n;
    } else if (a == "--retry-after") {
      retry_after = v;
    } else if (a == "--latency-ms") {
      if (!integer(n)) return usage_error("--latency-ms: milliseconds");
      latency_ms = n;
    } else {
      return usage_error("unknown option " + a);
    }
  }
  if (fixture_path.empty()) return usage_error("--fixture FILE is required");
  if (server_options.tls_cert_file.has_value() != server_options.tls_key_file.has_value()) {
    return usage_error("--tls-cert and --tls-key go together");
  }

  auto fixture = graphsim::load_fixture_file(fixture_path);
  if (!fixture.ok()) {
    std::cerr << "extdata-graphsim: " << fixture.error().to_string() << "\n";
    return 2;
  }
  for (const auto& [list, count] : generate) {
    auto status = graphsim::generate_items(*fixture, list, count);
    if (!status.ok()) {
      std::cerr << "extdata-graphsim: --generate-items " << list << ": "
                << status.error().to_string() << "\n";
      return 2;
    }
  }
  if (!faults_text.empty()) {
    YAML::Node node;
    try {
      node = YAML::Load(faults_text);
    } catch (const YAML::Exception& e) {
      return usage_error("--faults: " + std::string(e.what()));
    }
    auto faults = graphsim::parse_faults(graphsim::YamlReader(node, "--faults"));
    if (!faults.ok()) return usage_error(faults.error().to_string());
    fixture->faults = std::move(faults).value();
  }
  if (throttle_every) fixture->faults.throttle.every = *throttle_every;
  if (throttle_status) fixture->faults.throttle.status = *throttle_status;
  if (retry_after) {
    if (*retry_after == "none") {
      fixture->faults.throttle.retry_after.reset();
    } else {
      fixture->faults.throttle.retry_after = *retry_after;
    }
  }
  if (latency_ms) fixture->faults.latency_ms = *latency_ms;

  auto sim = graphsim::GraphSim::create(std::move(fixture).value(), sim_options);
  if (!sim.ok()) {
    std::cerr << "extdata-graphsim: " << sim.error().to_string() << "\n";
    return 1;
  }
  graphsim::GraphSim& simulator = **sim;

  // Block termination signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  extdata::server::HttpServer server(
      server_options,
      extdata::server::sync_handler(
          [&simulator](const extdata::server::Request& r) { return simulator.handle(r); }));
  auto started = server.start();
  if (!started.ok()) {
    std::cerr << "extdata-graphsim: " << started.error().to_string() << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    std::ofstream out(port_file);
    out << server.port() << "\n";
    if (!out) {
      std::cerr << "extdata-graphsim: cannot write --port-file " << port_file << "\n";
      server.stop();
      return 1;
    }
  }
  std::cout << "graphsim listening on " << server.url() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server.stop();
  return 0;
}
