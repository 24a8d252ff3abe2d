#pragma once
// The drivers of `type: sql`, built from a source's validated spec. Building reads the
// connection settings only (no network): what is wrong with them is a validate-time error
// naming the key, e.g. a password inside `connection` (sql.password_in_url).
#include <memory>
#include <nlohmann/json.hpp>

#include "sources/sql/driver.h"

namespace extdata::sources::sql {

Result<std::unique_ptr<Driver>> make_driver(const nlohmann::json& spec, const DriverOptions& o);

Result<std::unique_ptr<Driver>> make_postgres_driver(const nlohmann::json& spec,
                                                     const DriverOptions& o);
Result<std::unique_ptr<Driver>> make_mysql_driver(const nlohmann::json& spec,
                                                  const DriverOptions& o);
Result<std::unique_ptr<Driver>> make_sqlite_driver(const nlohmann::json& spec,
                                                   const DriverOptions& o);
Result<std::unique_ptr<Driver>> make_odbc_driver(const nlohmann::json& spec,
                                                 const DriverOptions& o);

// A validate-time error about `key` (category invalid_input).
Error setting_error(std::string code, std::string key, std::string message, std::string hint);

// The spec's string `key`, "" when absent.
std::string spec_text(const nlohmann::json& spec, const char* key);

}  // namespace extdata::sources::sql
