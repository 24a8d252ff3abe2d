#include "cli/source_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "api/runtime.h"
#include "cli/load_source.h"
#include "config/config.h"
#include "core/time.h"
#include "sources/common/report.h"

namespace extdata::cli {

namespace {

using nlohmann::json;

std::string when(std::int64_t unix_time) {
  return unix_time > 0 ? format_rfc3339(from_unix_seconds(unix_time)) : "never";
}

// The served syncs of a source (store status), below a test report.
std::string sync_text(const store::SyncStatus& s) {
  std::string out = "served: sync " + s.mode + ", last full " + when(s.last_full_at) + " (" +
                    std::to_string(s.last_full_records) + " items), last incremental " +
                    when(s.last_incremental_at);
  if (s.last_incremental_at > 0)
    out += " (" + std::to_string(s.last_added) + " added, " + std::to_string(s.last_updated) +
           " updated, " + std::to_string(s.last_removed) + " removed)";
  out += "\n";
  if (!s.note.empty()) out += "note: " + s.note + "\n";
  return out;
}

struct RunOptions {
  std::string* name;
  std::string* config_file;
  std::vector<std::string>* vars;
  std::string* output;
};

Result<LoadedSource> load(CliEnv& env, const RunOptions& o) {
  return load_source(env, *o.name, *o.config_file);
}

void run_test(CliEnv& env, const RunOptions& o) {
  auto vars = parse_vars(*o.vars);
  if (!vars.ok()) return env.fail(vars.error());
  auto loaded = load(env, o);
  if (!loaded.ok()) return env.fail(loaded.error());
  auto report = sources::test_source(*loaded->source, *vars);
  if (!report.ok) env.exit_code = 1;
  // What the served syncs did (the test itself is one full read).
  std::optional<store::SourceStatus> status;
  if (loaded->runtime) {
    if (auto st = loaded->runtime->store().get_status(*o.name); st.ok()) status = *st;
  }
  if (env.json()) {
    json out = sources::to_json(report);
    if (status && !status->sync.mode.empty()) out["sync"]["served"] = api::sync_json(status->sync);
    return env.print(out);
  }
  std::cout << sources::render_text(report);
  if (status && !status->sync.mode.empty()) std::cout << sync_text(status->sync);
}

void run_fetch(CliEnv& env, const RunOptions& o) {
  auto vars = parse_vars(*o.vars);
  if (!vars.ok()) return env.fail(vars.error());
  std::string format = o.output->empty() ? env.output : *o.output;
  if (format == "text") format = "table";
  if (!o.output->empty() && format == "json") env.output = "json";
  auto loaded = load(env, o);
  if (!loaded.ok()) return env.fail(loaded.error());

  sources::FetchRequest request;
  request.variables = *vars;
  const bool terminal = isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  if (terminal) {
    request.on_progress = [started](const sources::Progress& p) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::fprintf(stderr, "\rpages %d, records %zu, %.0f records/s   ", p.pages, p.records,
                   seconds > 0 ? static_cast<double>(p.records) / seconds : 0.0);
    };
  }
  sources::FetchTrace trace;
  auto records = loaded->source->fetch(request, &trace);
  if (terminal) std::fprintf(stderr, "\n");
  for (const auto& w : trace.warnings) std::cerr << "warning: " << w << "\n";
  if (!records.ok()) return env.fail(records.error());
  if (format == "json") return sources::write_records_json(std::cout, **records);
  if (format == "csv") return sources::write_records_csv(std::cout, **records);
  std::cout << sources::records_to_table(**records);
}

RunOptions bind(CLI::App* cmd, CliEnv& env, bool with_output) {
  RunOptions o{env.slot(), env.slot(), env.list_slot(), env.slot()};
  cmd->add_option("SOURCE", *o.name, "Source name")->required();
  cmd->add_option("--var", *o.vars, "Variable value name=value (repeatable)");
  cmd->add_option("--config", *o.config_file,
                  "Take the source from this config file instead of the store");
  if (with_output) {
    cmd->add_option("--output", *o.output, "Record format (default: table on text output)")
        ->check(CLI::IsMember({"json", "csv", "table", "text"}));
  }
  return o;
}

}  // namespace

void add_source_commands(CLI::App& app, CliEnv& env) {
  CLI::App* source = nullptr;
  try {
    source = app.get_subcommand("source");
  } catch (const CLI::OptionNotFound&) {
    source = app.add_subcommand("source", "Manage data sources");
  }
  auto* test = source->add_subcommand(
      "test", "Run a source once: steps, status, time, pages, records, sample, warnings");
  const RunOptions test_opts = bind(test, env, false);
  test->callback([&env, test_opts] { run_test(env, test_opts); });

  auto* fetch =
      app.add_subcommand("fetch", "Print all records of a source (--output json|csv|table)");
  const RunOptions fetch_opts = bind(fetch, env, true);
  fetch->callback([&env, fetch_opts] { run_fetch(env, fetch_opts); });
}

}  // namespace extdata::cli
