#include "cli/backup_commands.h"

#include <iostream>

#include "store/sqlite/backup.h"

namespace extdata::cli {

namespace {

nlohmann::json to_json(const store::BackupReport& r) {
  return {{"file", r.file},          {"bytes", r.bytes},     {"sources", r.sources},
          {"fields", r.fields},      {"secrets", r.secrets}, {"tokens", r.tokens},
          {"snapshots", r.snapshots}};
}

std::string summary(const store::BackupReport& r) {
  return std::to_string(r.sources) + " sources, " + std::to_string(r.fields) + " fields, " +
         std::to_string(r.secrets) + " sealed secrets, " + std::to_string(r.tokens) +
         " API tokens, " + std::to_string(r.snapshots) + " snapshots; " + std::to_string(r.bytes) +
         " bytes";
}

// Backup and restore copy an SQLite data directory; a PostgreSQL store has its own tools.
Status sqlite_only(const CliEnv& env) {
  if (env.store_url().empty()) return ok_status();
  return Error("store.backup", "backup and restore work on the SQLite store of a data directory",
               "Back up the PostgreSQL store with pg_dump (docs/postgresql-store.md).");
}

void backup_cmd(CliEnv& env, const std::string& file, bool force) {
  if (auto s = sqlite_only(env); !s.ok()) return env.fail(s.error());
  auto report = store::backup_store(env.data_dir(), file, {.overwrite = force});
  if (!report.ok()) return env.fail(report.error());
  if (env.json()) return env.print(to_json(*report));
  std::cout << "Backed up " << env.data_dir() << " to " << report->file << ": " << summary(*report)
            << ".\nThe master key is not in the backup: keep " << env.data_dir()
            << "/master.key (or EXTDATA_MASTER_KEY) safe, apart from it.\n";
}

void restore_cmd(CliEnv& env, const std::string& file) {
  if (auto s = sqlite_only(env); !s.ok()) return env.fail(s.error());
  auto report = store::restore_store(file, env.data_dir());
  if (!report.ok()) return env.fail(report.error());
  // Opening the store now applies the migrations a backup of an older version needs.
  auto opened = env.open_store();
  if (!opened.ok()) return env.fail(opened.error());
  if (env.json()) return env.print(to_json(*report));
  std::cout << "Restored " << file << " into " << env.data_dir() << ": " << summary(*report)
            << ".\n";
}

}  // namespace

void add_backup_commands(CLI::App& app, CliEnv& env) {
  auto* backup = app.add_subcommand(
      "backup",
      "Write a consistent copy of the store to FILE, also while a server runs (not the "
      "master key)");
  auto* backup_file = env.slot();
  static bool force = false;
  backup->add_option("FILE", *backup_file, "The backup file to write")->required();
  backup->add_flag("--force", force, "Replace FILE when it exists");
  backup->callback([&env, backup_file] { backup_cmd(env, *backup_file, force); });

  auto* restore = app.add_subcommand(
      "restore",
      "Restore a backup into an empty data directory (--data) that has the backup's "
      "master key");
  auto* restore_file = env.slot();
  restore->add_option("FILE", *restore_file, "The backup file")->required();
  restore->callback([&env, restore_file] { restore_cmd(env, *restore_file); });
}

}  // namespace extdata::cli
