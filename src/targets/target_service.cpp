#include "targets/target_service.h"

#include <chrono>

#include "core/error_json.h"
#include "core/time.h"
#include "sources/common/transport.h"

namespace extdata::targets {

using nlohmann::json;

namespace {

json counts_json(const jira::Counts& c) {
  return {{"created", c.created}, {"updated", c.updated}, {"disabled", c.disabled},
          {"deleted", c.deleted}, {"enabled", c.enabled}, {"unchanged", c.unchanged}};
}

json problems_json(const std::vector<jira::OptionProblem>& problems) {
  json out = json::array();
  for (const auto& p : problems)
    out.push_back(
        {{"value", p.value}, {"label", p.label}, {"code", p.code}, {"message", p.message}});
  return out;
}

// The state a target keeps between syncs: {"context_id","mapping":{value:id},"last_sync":{…}}.
struct State {
  std::string context_id;
  jira::Mapping mapping;
  json last_sync;
};

State load_state(store::Store& store, const std::string& name) {
  State state;
  auto text = store.get_target_state(name);
  if (!text.ok() || text->empty()) return state;
  const json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return state;
  state.context_id = j.value("context_id", "");
  const json mapping = j.value("mapping", json::object());
  for (const auto& [value, id] : mapping.items())
    if (id.is_string()) state.mapping[value] = id.get<std::string>();
  state.last_sync = j.value("last_sync", json());
  return state;
}

Status save_state(store::Store& store, const std::string& name, const State& state) {
  json mapping = json::object();
  for (const auto& [value, id] : state.mapping) mapping[value] = id;
  return store.put_target_state(
      name,
      json{{"context_id", state.context_id}, {"mapping", mapping}, {"last_sync", state.last_sync}}
          .dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string contexts_text(const std::vector<jira::Context>& contexts) {
  std::string out;
  for (const auto& c : contexts)
    out += (out.empty() ? "" : ", ") + c.id + " '" + c.name + "'" + (c.global ? " (global)" : "");
  return out.empty() ? "none" : out;
}

// The context to manage: context_id, else the field's global context. A 404 on the context
// lists the field's contexts, so the admin can pick the right id.
Result<std::string> resolve_context(jira::Client& client, const config::TargetConfig& target) {
  const std::string wanted = target.spec.value("context_id", "");
  const std::string field_id = target.spec.value("field_id", "");
  auto contexts = client.contexts();
  if (!contexts.ok()) {
    Error e = contexts.error();
    if (e.code == "target.jira_not_found")
      e.hint = "Jira has no field '" + field_id +
               "' the account can see: check field_id (customfield_NNNNN, in Jira's field "
               "settings) and that the account is a Jira admin.";
    return e;
  }
  for (const auto& c : *contexts)
    if (wanted.empty() ? c.global : c.id == wanted) return c.id;
  return Error("target.jira_not_found",
               wanted.empty() ? "field " + field_id + " has no global context"
                              : "field " + field_id + " has no context " + wanted,
               "Set context_id to one of the field's contexts: " + contexts_text(*contexts) + ".")
      .with("contexts", contexts_text(*contexts));
}

}  // namespace

json to_json(const SyncReport& r) {
  json out = {{"target", r.target},
              {"ok", r.ok()},
              {"dry_run", r.dry_run},
              {"context_id", r.context_id},
              {"counts", counts_json(r.counts)},
              {"problems", problems_json(r.problems)},
              {"requests", r.requests},
              {"writes", r.writes},
              {"seconds", r.seconds},
              {"finished_at", r.finished_at}};
  if (r.error) out["error"] = extdata::to_json(*r.error);
  return out;
}

Error target_not_found(store::Store& store, const std::string& name) {
  std::vector<std::string> names;
  if (auto list = store.list_targets(); list.ok())
    for (const auto& t : *list) names.push_back(t.name);
  auto near = config::closest_match(name, names);
  return Error("target.not_found", "no target named '" + name + "'",
               near ? "Did you mean '" + *near + "'?"
                    : "Declare it under targets: in a config document and apply it.");
}

TargetService::TargetService(store::Store& store, fields::FieldService& fields,
                             sources::SourceDeps deps, Clock& clock, Refetch refetch)
    : store_(store),
      fields_(fields),
      deps_(std::move(deps)),
      clock_(clock),
      refetch_(std::move(refetch)) {}

Result<json> TargetService::list() {
  EXTDATA_ASSIGN_OR_RETURN(auto targets, store_.list_targets());
  json out = json::array();
  for (const auto& t : targets) {
    json item = t.masked();
    item["last_sync"] = load_state(store_, t.name).last_sync;
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::string> TargetService::targets_of_source(const std::string& source) {
  std::vector<std::string> out;
  auto targets = store_.list_targets();
  if (!targets.ok()) return out;
  for (const auto& t : *targets)
    if (auto field = store_.get_field(t.field); field.ok() && *field && (*field)->source == source)
      out.push_back(t.name);
  return out;
}

Result<SyncReport> TargetService::sync(const std::string& name, const SyncOptions& options) {
  EXTDATA_ASSIGN_OR_RETURN(auto target, store_.get_target(name));
  if (!target) return target_not_found(store_, name);
  std::lock_guard lock(mu_);
  return sync_jira(*target, options);
}

Result<std::vector<jira::Wanted>> TargetService::wanted_options(const config::TargetConfig& target,
                                                                const SyncOptions& options) {
  if (options.refetch && refetch_) {
    EXTDATA_ASSIGN_OR_RETURN(auto field, store_.get_field(target.field));
    if (!field)
      return Error("field.not_found",
                   "target '" + target.name + "' pushes the field '" + target.field +
                       "', which does not exist",
                   "Apply the field again, or fix the target's `field`.");
    EXTDATA_TRY(refetch_(field->source));
  }
  EXTDATA_ASSIGN_OR_RETURN(auto wanted_options, fields_.all_options(target.field));
  std::vector<jira::Wanted> wanted;
  wanted.reserve(wanted_options.options.size());
  for (auto& o : wanted_options.options) wanted.push_back({std::move(o.value), std::move(o.label)});
  return wanted;
}

Result<SyncReport> TargetService::sync_jira(const config::TargetConfig& target,
                                            const SyncOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  SyncReport report;
  report.target = target.name;
  report.dry_run = options.dry_run;
  State state = load_state(store_, target.name);
  // Every sync that ran, failed or not, is recorded: a failure before Jira was asked (the
  // source could not be read) must not leave the sources page saying "not synced yet".
  auto finish = [&](const jira::Client* client) -> Result<SyncReport> {
    if (client) {
      report.requests = client->requests();
      report.writes = client->writes();
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.finished_at = unix_seconds(clock_.now());
    if (!options.dry_run) {
      json last = to_json(report);
      last.erase("target");
      state.last_sync = std::move(last);
      EXTDATA_TRY(save_state(store_, target.name, state));
    }
    return report;
  };

  auto wanted = wanted_options(target, options);
  if (!wanted.ok()) {
    report.error = wanted.error();
    return finish(nullptr);
  }
  config::SourceConfig transport_config;
  transport_config.name = "target:" + target.name;
  transport_config.spec = {{"timeout", target.spec.value("timeout", 60.0)}};
  auto transport = sources::Transport::build(
      transport_config, deps_, {.auth = target.spec.value("auth", json()), .key_prefix = "auth."});
  if (!transport.ok()) {
    report.error = transport.error();
    return finish(nullptr);
  }
  jira::Client client(transport->client(), target.spec.value("jira", ""),
                      target.spec.value("field_id", ""));

  auto context = resolve_context(client, target);
  if (!context.ok()) {
    report.error = context.error();
    return finish(&client);
  }
  report.context_id = *context;
  if (state.context_id != *context) state.mapping.clear();  // another context: start over
  state.context_id = *context;
  auto existing = client.options(*context);
  if (!existing.ok()) {
    report.error = existing.error();
    return finish(&client);
  }
  const auto plan = jira::plan_sync(*wanted, *existing, state.mapping,
                                    jira::on_removed_from(target.spec.value("on_removed", "")));
  report.counts = plan.counts;
  report.problems = plan.problems;
  if (options.dry_run) return finish(&client);
  auto ran = jira::run_sync(client, *context, plan);
  state.mapping = std::move(ran.mapping);
  report.problems.insert(report.problems.end(), ran.problems.begin(), ran.problems.end());
  report.counts.created = ran.created;  // creates Jira refused are problems, not created
  if (ran.error) report.error = ran.error;
  return finish(&client);
}

}  // namespace extdata::targets
