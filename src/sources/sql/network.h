#pragma once
// Database hosts pass the same network policy as HTTP requests (http/network_policy.h): the
// host is resolved here, each address is checked, and the driver is given the checked address
// (libpq's hostaddr, MariaDB's host) so that no second DNS answer (rebinding) can send the
// connection elsewhere. The name is kept for TLS verification where the driver allows it.
#include <string>

#include "core/error.h"

namespace extdata::sources::sql {

// The first address of `host` the process's policy allows for `port` (IPv4 first), or the
// policy's "network.blocked" error for the first address refused, or "sql.unreachable" when
// the name does not resolve.
Result<std::string> checked_address(const std::string& host, int port);

}  // namespace extdata::sources::sql
