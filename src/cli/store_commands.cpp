#include "cli/store_commands.h"

#include <iostream>

#include "store/postgres/postgres_store.h"

namespace extdata::cli {

namespace {

nlohmann::json to_json(const store::MigrateReport& r) {
  return {{"sources", r.sources},
          {"fields", r.fields},
          {"targets", r.targets},
          {"secrets", r.secrets},
          {"tokens", r.tokens},
          {"snapshots", r.snapshots},
          {"snapshot_bytes", r.snapshot_bytes},
          {"statuses", r.statuses},
          {"grants", r.grants}};
}

void migrate_cmd(CliEnv& env, const std::string& to) {
  const std::string url = to.empty() ? env.store_url() : to;
  if (url.empty())
    return env.fail(Error("store.url", "store migrate needs the PostgreSQL store to copy into",
                          "Pass --to postgresql://USER@HOST:PORT/DB (or set EXTDATA_STORE)."));
  auto report = store::migrate_sqlite_to_postgres(env.data_dir(), url);
  if (!report.ok()) return env.fail(report.error());
  if (env.json()) return env.print({{"ok", true}, {"copied", to_json(*report)}});
  const auto& r = *report;
  std::cout << "Copied " << env.data_dir() << " into " << store::describe_store({.url = url})
            << ": " << r.sources << " sources, " << r.fields << " fields, " << r.targets
            << " targets, " << r.secrets << " sealed secrets, " << r.tokens << " API tokens, "
            << r.snapshots << " snapshots (" << r.snapshot_bytes << " bytes), " << r.statuses
            << " source statuses, " << r.grants << " user grants.\n"
            << "Run every instance with --store (or EXTDATA_STORE) and the master key of "
            << env.data_dir() << " (EXTDATA_MASTER_KEY_FILE): the secrets stay sealed with it.\n";
}

}  // namespace

void add_store_commands(CLI::App& app, CliEnv& env) {
  auto* store = app.add_subcommand("store", "Operations on the store itself");
  store->require_subcommand(1);
  auto* migrate = store->add_subcommand(
      "migrate",
      "Copy the SQLite store of the data directory (--data) into an empty PostgreSQL store, in "
      "one transaction");
  auto* to = env.slot();
  migrate->add_option("--to", *to,
                      "The PostgreSQL store, postgresql://USER@HOST:PORT/DB (default: --store or "
                      "$EXTDATA_STORE)");
  migrate->callback([&env, to] { migrate_cmd(env, *to); });
}

}  // namespace extdata::cli
