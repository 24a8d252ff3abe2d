#include "cli/config_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "api/oauth_connect.h"
#include "api/runtime.h"
#include "config/catalog.h"
#include "config/config.h"
#include "config/schema.h"
#include "core/redact.h"
#include "core/time.h"
#include "sources/source.h"
#include "store/secret_box.h"

namespace extdata::cli {

using nlohmann::json;

namespace {

// One line per setting: "  url  url, required, secret, {variables}  Request URL".
void print_kinds(const nlohmann::json& kinds, const char* heading) {
  std::cout << heading << "\n";
  for (const auto& kind : kinds) {
    std::cout << "\n"
              << kind["type"].get<std::string>() << " — " << kind["title"].get<std::string>()
              << "\n  " << kind["description"].get<std::string>() << "\n";
    for (const auto& st : kind["settings"]) {
      std::string traits = st["type"].get<std::string>();
      if (st["required"].get<bool>()) traits += ", required";
      if (st["secret"].get<bool>() && st["type"] != "secret") traits += ", secret";
      if (st["variables"].get<bool>()) traits += ", {variables}";
      std::cout << "    " << st["key"].get<std::string>() << " (" << traits << ") "
                << st["description"].get<std::string>() << "\n";
    }
  }
}

void kinds_cmd(CliEnv& env, bool markdown) {
  if (markdown) {
    std::cout << config::schema_markdown();
    return;
  }
  const nlohmann::json doc = config::kinds_document();
  if (env.json()) return env.print(doc);
  print_kinds(doc["sources"], "Source kinds");
  std::cout << "\n";
  print_kinds(doc["auth"], "Auth methods");
  std::cout << "\n";
  print_kinds(doc["targets"], "Target types");
}

std::set<std::string> stored_source_names(store::Store& store) {
  std::set<std::string> names;
  if (auto list = store.list_sources(); list.ok())
    for (const auto& s : *list) names.insert(s.name);
  return names;
}

// The one shape `validate` and `apply` print with --output json: {"ok", "file", "sources":
// [{"name", "type"}], "fields": [{"name", "source"}]}; apply adds to each item what it did.
json config_summary(const std::string& file, const config::ConfigFile& cfg) {
  json out = {{"ok", true}, {"file", file}, {"sources", json::array()}, {"fields", json::array()}};
  for (const auto& s : cfg.sources) out["sources"].push_back({{"name", s.name}, {"type", s.type}});
  for (const auto& f : cfg.fields)
    out["fields"].push_back({{"name", f.name}, {"source", f.source}});
  return out;
}

void validate_cmd(CliEnv& env, const std::string& file) {
  auto cfg = config::load_config_file(file, {}, env.secrets_dir);
  if (!cfg.ok()) return env.fail(cfg.error());
  // Deeper checks (templates, JSONPaths, site URLs) need the source kinds themselves.
  std::vector<std::string> warnings;
  for (const auto& s : cfg->sources) {
    auto built = api::check_source(s);
    if (!built.ok()) return env.fail(config::locate_source_error(file, s, built.error()));
  }
  if (env.json()) {
    env.print(config_summary(file, *cfg));
  } else {
    std::cout << file << ": valid (" << cfg->sources.size() << " sources, " << cfg->fields.size()
              << " fields)\n";
  }
}

// A value in a key's diff line: compact JSON, redacted, at most 80 characters.
std::string shown(const json& value) {
  std::string text = redact(value.dump(-1, ' ', false, json::error_handler_t::replace));
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

std::string diff_line(const config::KeyChange& k) {
  using Kind = config::KeyChange::Kind;
  const char mark = k.kind == Kind::added ? '+' : k.kind == Kind::removed ? '-' : '~';
  std::string line = std::string(1, mark) + " " + k.key;
  if (k.secret) return line + ": secret " + std::string(config::kind_name(k.kind)) + " (not shown)";
  if (k.kind == Kind::added) return line + ": " + shown(k.after);
  if (k.kind == Kind::removed) return line + " (was " + shown(k.before) + ")";
  return line + ": " + shown(k.before) + " → " + shown(k.after);
}

// "created   source customers", then one line per changed key; dry runs say "would create".
void print_applied(const store::AppliedItem& item, bool dry_run) {
  std::string verb(store::change_name(item.written.change));
  if (dry_run && item.written.change == store::Change::created) verb = "would create";
  if (dry_run && item.written.change == store::Change::updated) verb = "would update";
  verb.resize(std::max<size_t>(verb.size(), dry_run ? 14 : 10), ' ');
  std::cout << verb << item.kind << " " << item.name << "\n";
  for (const auto& k : item.written.keys)
    std::cout << std::string(verb.size() + 2, ' ') << diff_line(k) << "\n";
}

void print_apply_summary(const std::string& file, const std::vector<store::AppliedItem>& items,
                         bool dry_run) {
  std::map<store::Change, size_t> count;
  for (const auto& item : items) ++count[item.written.change];
  const size_t created = count[store::Change::created], updated = count[store::Change::updated];
  const size_t unchanged = count[store::Change::unchanged];
  if (dry_run)
    std::cout << "dry run of " << file << ": " << created << " to create, " << updated
              << " to update, " << unchanged << " unchanged; nothing was written\n";
  else
    std::cout << "applied " << file << ": " << created << " created, " << updated << " updated, "
              << unchanged << " unchanged\n";
}

// A value of a key's diff as JSON, with anything that looks like a secret scrubbed.
json redacted(const json& value) {
  if (value.is_string()) return redact(value.get<std::string>());
  const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string clean = redact(text);
  return clean == text ? value : json(clean);
}

// config_summary with "change" (and the changed "keys") added to each item.
json apply_json(const std::string& file, const config::ConfigFile& cfg,
                const std::vector<store::AppliedItem>& items, bool dry_run) {
  json out = config_summary(file, cfg);
  out["dry_run"] = dry_run;
  size_t s = 0, f = 0;
  for (const auto& item : items) {
    json& entry = item.kind == "source" ? out["sources"][s++] : out["fields"][f++];
    entry["change"] = std::string(store::change_name(item.written.change));
    if (item.written.change != store::Change::updated) continue;
    entry["keys"] = json::array();
    for (const auto& k : item.written.keys) {
      json key = config::to_json(k);
      for (const char* side : {"before", "after"})
        if (key.contains(side)) key[side] = redacted(key[side]);
      entry["keys"].push_back(std::move(key));
    }
  }
  return out;
}

void apply_cmd(CliEnv& env, const std::string& file, bool dry_run) {
  // A dry run writes nothing, not even a new empty store.
  auto store = dry_run ? env.open_store() : env.open_or_create_store();
  if (!store.ok()) return env.fail(store.error());
  auto cfg = config::load_config_file(file, stored_source_names(**store), env.secrets_dir);
  if (!cfg.ok()) return env.fail(cfg.error());
  for (const auto& s : cfg->sources) {
    auto built = api::check_source(s);
    if (!built.ok()) {
      Error e = config::locate_source_error(file, s, built.error());
      e.message += " (nothing was applied)";
      return env.fail(e);
    }
  }
  auto applied = (*store)->apply(*cfg, {.dry_run = dry_run});
  if (!applied.ok()) return env.fail(applied.error());
  if (env.json()) return env.print(apply_json(file, *cfg, *applied, dry_run));
  for (const auto& item : *applied) print_applied(item, dry_run);
  print_apply_summary(file, *applied, dry_run);
}

// `apply FILE` as `validate FILE` takes it; `apply -f FILE` as before.
void apply_files(CliEnv& env, const std::string& positional, const std::string& flag,
                 bool dry_run) {
  if (positional.empty() == flag.empty())
    return env.fail(Error(
        "cli.usage",
        positional.empty() ? "apply needs a config file" : "apply takes one config file, not two",
        "Run: extdata apply FILE (or --dry-run FILE to see what would change)"));
  apply_cmd(env, positional.empty() ? flag : positional, dry_run);
}

void source_list(CliEnv& env) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto list = (*store)->list_sources();
  if (!list.ok()) return env.fail(list.error());
  json out = json::array();
  for (const auto& s : *list)
    out.push_back({{"name", s.name}, {"type", s.type}, {"target", sources::describe_source(s)}});
  env.print_rows({{"name", "SOURCE"}, {"type", "TYPE"}, {"target", "READS"}}, out,
                 "No sources yet: add some with `extdata apply FILE`.");
}

// "2026-12-01T18:05:39Z" for Unix seconds; "" for 0 (never).
std::string utc_time(std::int64_t unix_time) {
  return unix_time > 0 ? format_rfc3339(from_unix_seconds(unix_time)) : std::string();
}

// Every source's (or one source's) last fetch, records and last error: what a server using
// this store last saw. `extdata source show NAME` has the configuration too.
void source_status(CliEnv& env, const std::string& name) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto list = (*store)->list_sources();
  if (!list.ok()) return env.fail(list.error());
  json rows = json::array();
  for (const auto& s : *list) {
    if (!name.empty() && s.name != name) continue;
    json row = {{"name", s.name}, {"type", s.type}};
    auto st = (*store)->get_status(s.name);
    if (!st.ok()) return env.fail(st.error());
    if (st->has_value()) {
      const auto& status = **st;
      row["last_fetch"] = utc_time(status.last_fetch_at);
      row["last_success"] = utc_time(status.last_success_at);
      row["records"] = status.records;
      row["state"] = status.last_error.empty() ? "ok" : "failing";
      if (!status.sync.mode.empty()) row["sync"] = api::sync_json(status.sync);
      if (!status.last_error.empty()) {
        row["last_error"] = status.last_error;
        row["hint"] = status.last_error_hint;
      }
    } else {
      row["state"] = "not fetched yet";
    }
    rows.push_back(std::move(row));
  }
  if (!name.empty() && rows.empty()) return env.fail(api::source_not_found(**store, name));
  env.print_rows({{"name", "SOURCE"},
                  {"state", "STATE"},
                  {"last_fetch", "LAST FETCH"},
                  {"last_success", "LAST SUCCESS"},
                  {"records", "RECORDS"},
                  {"last_error", "LAST ERROR"}},
                 rows, "No sources yet: add some with `extdata apply FILE`.");
}

void source_show(CliEnv& env, const std::string& name) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto s = (*store)->get_source(name);
  if (!s.ok()) return env.fail(s.error());
  if (!s->has_value()) return env.fail(api::source_not_found(**store, name));
  json out = (*s)->masked();
  // The runtime builds the source to read its credential's expiry dates.
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  out["warnings"] = api::source_warnings(runtime, name);
  if (auto st = runtime.store().get_status(name); st.ok() && st->has_value())
    out["status"] = api::status_json(**st);
  // A user-grant source: its redirect URI (EXTDATA_PUBLIC_URL) and who connected it.
  const auto public_url = api::resolve_public_url("", "");
  if (json c = api::connection_json(runtime, name, public_url.ok() ? *public_url : "");
      !c.is_null())
    out["connection"] = c;
  if (env.json()) return env.print(out);
  std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  for (const auto& w : out["warnings"]) std::cerr << "warning: " << w.get<std::string>() << "\n";
}

void source_rm(CliEnv& env, const std::string& name) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  const auto revocation = api::revocation_for(runtime, name);  // read before the grant goes
  auto removed = runtime.store().delete_source(name);
  if (!removed.ok()) return env.fail(removed.error());
  if (!*removed) return env.fail(api::source_not_found(runtime.store(), name));
  if (revocation) api::revoke(*revocation, runtime.metrics(), name);
  if (env.json()) return env.print({{"ok", true}, {"deleted", name}});
  std::cout << "deleted source " << name << "\n";
}

void field_list(CliEnv& env) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto list = (*store)->list_fields();
  if (!list.ok()) return env.fail(list.error());
  json out = json::array();
  for (const auto& f : *list)
    out.push_back(
        {{"name", f.name}, {"type", f.spec.value("type", "select")}, {"source", f.source}});
  env.print_rows({{"name", "FIELD"}, {"type", "TYPE"}, {"source", "SOURCE"}}, out,
                 "No fields yet: add some with `extdata apply FILE`.");
}

void field_show(CliEnv& env, const std::string& name) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto f = (*store)->get_field(name);
  if (!f.ok()) return env.fail(f.error());
  if (!f->has_value()) return env.fail(api::field_not_found(**store, name));
  env.print((*f)->spec);
}

void field_rm(CliEnv& env, const std::string& name) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto removed = (*store)->delete_field(name);
  if (!removed.ok()) return env.fail(removed.error());
  if (!*removed) return env.fail(api::field_not_found(**store, name));
  if (env.json()) return env.print({{"ok", true}, {"deleted", name}});
  std::cout << "deleted field " << name << "\n";
}

// A dependent field's missing context value is passed with --var on the command line (the
// API's hint names its ctx.NAME parameter).
Error with_cli_hint(Error error) {
  if (auto missing = error.details.find("missing");
      error.code == "field.bad_context" && missing != error.details.end())
    error.hint = "Pass --var " + missing->second + "=VALUE (the value of the field it depends on).";
  return error;
}

void field_options(CliEnv& env, const std::string& name, const std::string& q,
                   const std::vector<std::string>& vars, std::int64_t limit, std::int64_t offset) {
  auto parsed = parse_vars(vars);
  if (!parsed.ok()) return env.fail(parsed.error());
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  fields::OptionsQuery query;
  query.q = q;
  query.offset = offset;
  if (limit > 0) query.limit = limit;
  for (const auto& [k, v] : *parsed) query.context[k] = v;
  auto r = runtime.fields().options(name, query);
  if (!r.ok()) return env.fail(with_cli_hint(r.error()));
  if (env.json()) return env.print(json::parse(fields::to_json(*r)));
  json rows = json::array();
  for (const auto& o : r->options) rows.push_back({{"value", o.value}, {"label", o.label}});
  env.print_rows({{"value", "VALUE"}, {"label", "LABEL"}}, rows, "No options.");
  std::cerr << r->options.size() << " of " << r->total << " options" << (r->stale ? " (stale)" : "")
            << "\n";
}

void field_value(CliEnv& env, const std::string& name, const std::string& key,
                 const std::vector<std::string>& vars) {
  auto parsed = parse_vars(vars);
  if (!parsed.ok()) return env.fail(parsed.error());
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  api::Runtime runtime(std::move(*store), SystemClock::instance(), Metrics::global());
  fields::Context context(parsed->begin(), parsed->end());
  auto r = runtime.fields().value(name, key, context);
  if (!r.ok()) return env.fail(with_cli_hint(r.error()));
  if (env.json()) {
    if (!r->found) env.exit_code = 1;
    return env.print(json::parse(fields::to_json(*r)));
  }
  if (!r->found) {
    env.exit_code = 1;
    std::cerr << "key '" << key << "' no longer exists in the source of field " << name << "\n";
    return;
  }
  std::cout << r->label << "\n";
}

void token_create(CliEnv& env, const std::string& role, const std::string& label) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto token = (*store)->create_token(role, label, now);
  if (!token.ok()) return env.fail(token.error());
  if (env.json()) return env.print({{"ok", true}, {"role", role}, {"token", *token}});
  std::cout << *token << "\n";
  std::cerr << "This " << role
            << " token is shown once; store it safely (only its hash is kept).\n";
}

void token_list(CliEnv& env) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto list = (*store)->list_tokens();
  if (!list.ok()) return env.fail(list.error());
  json out = json::array();
  for (const auto& t : *list)
    out.push_back(
        {{"id", t.id}, {"role", t.role}, {"label", t.label}, {"created_at", t.created_at}});
  if (env.json()) return env.print(out);
  for (auto& t : out) t["created"] = utc_time(t["created_at"].get<std::int64_t>());
  env.print_rows({{"id", "ID"}, {"role", "ROLE"}, {"label", "LABEL"}, {"created", "CREATED"}}, out,
                 "No API tokens: create one with `extdata token create --role admin`.");
}

void token_rm(CliEnv& env, const std::string& id) {
  auto store = env.open_store();
  if (!store.ok()) return env.fail(store.error());
  auto removed = (*store)->delete_token(id);
  if (!removed.ok()) return env.fail(removed.error());
  if (!*removed)
    return env.fail(
        Error("token.not_found", "no token with id '" + id + "'", "See: extdata token list"));
  if (env.json()) return env.print({{"ok", true}, {"deleted", id}});
  std::cout << "deleted token " << id << "\n";
}

}  // namespace

// Creates the store deliberately; every other command but `apply` needs one to exist.
void init_cmd(CliEnv& env) {
  const std::string dir = env.data_dir();
  std::error_code ec;
  const bool existed = std::filesystem::exists(dir + "/extdata.db", ec);
  auto store = env.open_or_create_store();
  if (!store.ok()) return env.fail(store.error());
  if (!env.store_url().empty()) {  // PostgreSQL: opening migrated it; the key is the operator's
    if (env.json()) return env.print({{"ok", true}, {"store", env.store_name()}});
    std::cout << "The store " << env.store_name() << " is ready.\n";
    return;
  }
  const bool key_in_env = store::SecretBox::key_outside_data_dir();
  if (env.json()) return env.print({{"ok", true}, {"data_dir", dir}, {"created", !existed}});
  if (existed) {
    std::cout << "A store already exists in " << dir << "; nothing changed.\n";
    return;
  }
  std::cout << "Created a store in " << dir << ".\n";
  if (!key_in_env)
    std::cout << "Back up " << dir
              << "/master.key with the store: stored secrets cannot be read without it.\n";
}

void add_config_commands(CLI::App& app, CliEnv& env) {
  app.add_subcommand("init", "Create an empty store in the data directory (--data)")
      ->callback([&env] { init_cmd(env); });

  auto* validate = app.add_subcommand(
      "validate", "Check a config file (YAML or JSON) without touching the store");
  auto* validate_file = env.slot();
  validate->add_option("FILE", *validate_file, "Config file")->required();
  validate->callback([&env, validate_file] { validate_cmd(env, *validate_file); });

  auto* apply = app.add_subcommand(
      "apply",
      "Create or update sources and fields from a file (all or nothing); says per item "
      "created, updated or unchanged");
  auto* apply_file = env.slot();
  auto* apply_flag_file = env.slot();
  static bool dry_run = false;
  apply->add_option("FILE", *apply_file, "Config file");
  apply->add_option("-f,--file", *apply_flag_file, "Config file (the same as FILE)");
  apply->add_flag("--dry-run", dry_run,
                  "Show what would be created or updated, key by key (secrets masked); write "
                  "nothing");
  apply->callback([&env, apply_file, apply_flag_file] {
    apply_files(env, *apply_file, *apply_flag_file, dry_run);
  });

  auto* reference = app.add_subcommand(
      "config-reference", "Print every config key as Markdown (docs/configuration.md)");
  reference->callback([] { std::cout << config::schema_markdown(); });

  static bool kinds_markdown = false;
  auto* kinds = app.add_subcommand(
      "kinds",
      "Every source kind and auth method with its settings (--output json: the document "
      "GET /api/v1/kinds answers)");
  kinds->add_flag("--markdown", kinds_markdown,
                  "The configuration reference (docs/configuration.md)");
  kinds->callback([&env] { kinds_cmd(env, kinds_markdown); });

  auto* source = app.add_subcommand("source", "Manage data sources");
  source->require_subcommand(1);
  source->add_subcommand("list", "List sources")->callback([&env] { source_list(env); });
  auto* status_name = env.slot();
  auto* status = source->add_subcommand(
      "status", "Last fetch, records and last error of every source (or of NAME)");
  status->add_option("NAME", *status_name, "Only this source");
  status->callback([&env, status_name] { source_status(env, *status_name); });
  auto* name = env.slot();
  auto* show =
      source->add_subcommand("show", "Show a source (secrets masked), its status and warnings");
  show->add_option("NAME", *name)->required();
  show->callback([&env, name] { source_show(env, *name); });
  auto* rm = source->add_subcommand("rm", "Delete a source");
  rm->add_option("NAME", *name)->required();
  rm->callback([&env, name] { source_rm(env, *name); });

  auto* field = app.add_subcommand("field", "Manage fields");
  field->require_subcommand(1);
  field->add_subcommand("list", "List fields")->callback([&env] { field_list(env); });
  auto* fname = env.slot();
  auto* fshow = field->add_subcommand("show", "Show a field");
  fshow->add_option("NAME", *fname)->required();
  fshow->callback([&env, fname] { field_show(env, *fname); });
  auto* frm = field->add_subcommand("rm", "Delete a field");
  frm->add_option("NAME", *fname)->required();
  frm->callback([&env, fname] { field_rm(env, *fname); });

  auto* fq = env.slot();
  auto* fvars = env.list_slot();
  static std::int64_t limit = 0, offset = 0;
  auto* fopts = field->add_subcommand("options", "The options of a field (search with --q)");
  fopts->add_option("NAME", *fname)->required();
  fopts->add_option("--q", *fq, "Search text");
  fopts->add_option("--var", *fvars, "Context value name=value (repeatable)");
  fopts->add_option("--limit", limit, "Number of options (1-1000; default: the field's)");
  fopts->add_option("--offset", offset, "Skip this many matches");
  fopts->callback(
      [&env, fname, fq, fvars] { field_options(env, *fname, *fq, *fvars, limit, offset); });
  auto* fkey = env.slot();
  auto* fval = field->add_subcommand("value", "The current label of a stored key");
  fval->add_option("NAME", *fname)->required();
  fval->add_option("KEY", *fkey)->required();
  fval->add_option("--var", *fvars, "Context value name=value (repeatable)");
  fval->callback([&env, fname, fkey, fvars] { field_value(env, *fname, *fkey, *fvars); });

  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  auto* role = env.slot("reader");
  auto* label = env.slot();
  auto* create = token->add_subcommand("create", "Create an API token (shown once)");
  create->add_option("--role", *role, "admin or reader")->check(CLI::IsMember({"admin", "reader"}));
  create->add_option("--label", *label, "What the token is for");
  create->callback([&env, role, label] { token_create(env, *role, *label); });
  token->add_subcommand("list", "List tokens (never their secret)")->callback([&env] {
    token_list(env);
  });
  auto* tid = env.slot();
  auto* trm = token->add_subcommand("rm", "Revoke a token");
  trm->add_option("ID", *tid)->required();
  trm->callback([&env, tid] { token_rm(env, *tid); });
}

}  // namespace extdata::cli
