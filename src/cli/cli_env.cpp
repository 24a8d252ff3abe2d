#include "cli/cli_env.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "core/error_codes.h"
#include "core/error_json.h"
#include "core/redact.h"
#include "core/strings.h"

namespace extdata::cli {

void CliEnv::fail(const Error& error) {
  exit_code = extdata::exit_code(error);
  if (json()) {
    print(error_document(error));
    return;
  }
  std::cerr << "error: " << redact(error.message) << "\n";
  if (!error.hint.empty()) std::cerr << "hint: " << as_sentence(redact(error.hint)) << "\n";
  for (const auto& [k, v] : error.details) {
    if (k == "issues") continue;  // already in the message
    std::cerr << "  " << k << ": " << redact(v) << "\n";
  }
}

Result<std::unique_ptr<store::Store>> CliEnv::open_store() const {
  return store::open_store({.url = store_url(), .data_dir = data_dir(), .create = false});
}

Result<std::unique_ptr<store::Store>> CliEnv::open_or_create_store() const {
  return store::open_store({.url = store_url(), .data_dir = data_dir(), .create = true});
}

std::string CliEnv::store_name() const {
  return store::describe_store({.url = store_url(), .data_dir = data_dir()});
}

void CliEnv::print_rows(const std::vector<std::pair<std::string, std::string>>& columns,
                        const nlohmann::json& rows, const std::string& empty) const {
  if (json()) return print(rows);
  if (rows.empty()) {
    std::cerr << empty << "\n";
    return;
  }
  auto cell = [](const nlohmann::json& row, const std::string& key) {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) return std::string();
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  if (!table()) {
    for (const auto& row : rows) {
      std::string line;
      for (size_t c = 0; c < columns.size(); ++c)
        line += (c ? "\t" : "") + cell(row, columns[c].first);
      std::cout << line << "\n";
    }
    return;
  }
  // Widths in code points, so "Müller" lines up with "Muller".
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths;
  for (const auto& [key, header] : columns) widths.push_back(width(header));
  for (const auto& row : rows)
    for (size_t c = 0; c < columns.size(); ++c)
      widths[c] = std::max(widths[c], width(cell(row, columns[c].first)));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(widths[c] - width(cells[c]) + 2, ' ');
    }
    std::cout << out << "\n";
  };
  std::vector<std::string> headers;
  for (const auto& [key, header] : columns) headers.push_back(header);
  line(headers);
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& [key, header] : columns) cells.push_back(cell(row, key));
    line(cells);
  }
}

void CliEnv::print(const nlohmann::json& value) const {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

Result<std::map<std::string, std::string>> parse_vars(const std::vector<std::string>& vars) {
  std::map<std::string, std::string> out;
  for (const auto& v : vars) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error("cli.bad_var", "--var '" + v + "' is not of the form name=value",
                   "Write --var country=Germany.");
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

}  // namespace extdata::cli
