#pragma once
// The operator's network policy on the command line: the repeatable global --allow-host flag
// and EXTDATA_ALLOW_HOSTS (comma-separated), see src/http/network_policy.h and
// docs/network.md. Never taken from a config document or the API.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/network_policy.h"

namespace extdata::cli {

// Adds --allow-host to `app`. The returned step installs the process-wide policy; run it once
// the command line is parsed, before any command runs (cli.cpp does, in its parse-complete
// callback); an invalid entry is a usage error naming it.
std::function<void()> add_network_options(CLI::App& app);

// The policy of `allow_hosts` (EXTDATA_ALLOW_HOSTS' form) plus the --allow-host flags given at
// start: what a reload (SIGHUP) installs from the settings file.
Result<http::NetworkPolicy> operator_network_policy(std::string_view allow_hosts);

// Called by `serve` once it listens: connections to `server_url`'s address and port are refused.
void refuse_own_address(const std::string& server_url);

}  // namespace extdata::cli
