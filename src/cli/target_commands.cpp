#include "cli/target_commands.h"

#include <iostream>

#include "api/runtime.h"
#include "core/clock.h"
#include "core/error_codes.h"

namespace extdata::cli {

using nlohmann::json;

namespace {

void target_list(CliEnv& env) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  auto list = runtime.targets().list();
  if (!list.ok()) return env.fail(list.error());
  if (env.json()) return env.print(*list);
  json rows = json::array();
  for (const auto& t : *list) {
    const json& last = t["last_sync"];
    rows.push_back({{"name", t["name"]},
                    {"type", t["type"]},
                    {"field", t["field"]},
                    {"last", last.is_object() ? (last.value("ok", false) ? "ok" : "failed")
                                              : "never synced"}});
  }
  env.print_rows({{"name", "NAME"}, {"type", "TYPE"}, {"field", "FIELD"}, {"last", "LAST SYNC"}},
                 rows, "No targets.");
}

void print_report(const targets::SyncReport& r) {
  const auto& c = r.counts;
  std::cout << (r.dry_run ? "would be " : "") << "created " << c.created << ", updated "
            << c.updated << ", enabled " << c.enabled << ", disabled " << c.disabled << ", deleted "
            << c.deleted << ", unchanged " << c.unchanged << "\n";
  for (const auto& p : r.problems)
    std::cout << "refused option " << p.value << ": " << p.message << " (" << p.code << ")\n";
  std::cerr << r.requests << " Jira requests (" << r.writes << " writes) in " << r.seconds
            << " s, context " << (r.context_id.empty() ? "?" : r.context_id) << "\n";
}

void target_sync(CliEnv& env, const std::string& name, bool dry_run) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  auto report = runtime.targets().sync(name, {.dry_run = dry_run, .refetch = true});
  if (!report.ok()) return env.fail(report.error());
  if (env.json()) {
    env.print(targets::to_json(*report));
    if (report->error) env.exit_code = exit_code(*report->error);
  } else {
    print_report(*report);
    if (report->error) env.fail(*report->error);
  }
  // Options Jira would refuse are reported, and the sync still counts as done — unless
  // nothing else failed, a non-zero exit says "look at the refused options".
  if (!report->error && !report->problems.empty()) env.exit_code = 1;
}

}  // namespace

void add_target_commands(CLI::App& app, CliEnv& env) {
  auto* target = app.add_subcommand("target", "Targets: where fields' options are pushed (Jira)");
  target->require_subcommand(1);
  target->add_subcommand("list", "List targets and their last sync")->callback([&env] {
    target_list(env);
  });
  auto* name = env.slot();
  static bool dry_run = false;
  auto* sync = target->add_subcommand(
      "sync", "Push the field's options to the target now; prints what changed");
  sync->add_option("NAME", *name)->required();
  sync->add_flag("--dry-run", dry_run, "Compare and print the counts, change nothing");
  sync->callback([&env, name] { target_sync(env, *name, dry_run); });
}

}  // namespace extdata::cli
