#include "targets/jira/option_sync.h"

#include <algorithm>
#include <set>

#include "core/strings.h"

namespace extdata::targets::jira {

namespace {

// Characters as Jira counts them (code points of valid UTF-8). Case folding below is ASCII
// (core/strings.h): labels differing only in the case of other letters reach Jira, which
// refuses them with 400 target.jira_rejected for their batch.
size_t characters(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

struct Existing {
  std::map<std::string, const Option*> by_id;
  std::map<std::string, const Option*> by_label;  // exact label → first option with it
};

Existing index(const std::vector<Option>& existing) {
  Existing out;
  for (const auto& o : existing) {
    out.by_id.emplace(o.id, &o);
    out.by_label.emplace(o.value, &o);
  }
  return out;
}

// Which Jira option each wanted value keeps: its mapped one while it exists, else an
// unclaimed option with exactly its label.
std::map<std::string, std::string> claims(const std::vector<Wanted>& wanted, const Existing& ex,
                                          const Mapping& mapping) {
  std::map<std::string, std::string> claim;
  std::set<std::string> taken;
  for (const auto& w : wanted)
    if (auto m = mapping.find(w.value); m != mapping.end() && ex.by_id.count(m->second))
      if (taken.insert(m->second).second) claim.emplace(w.value, m->second);
  std::set<std::string> mapped_ids;
  for (const auto& [value, id] : mapping) mapped_ids.insert(id);
  for (const auto& w : wanted) {
    if (claim.count(w.value)) continue;
    auto same = ex.by_label.find(w.label);
    if (same == ex.by_label.end()) continue;
    const std::string& id = same->second->id;
    if (mapped_ids.count(id) || !taken.insert(id).second) continue;
    claim.emplace(w.value, id);
  }
  return claim;
}

void plan_removed(const Mapping& mapping, const std::set<std::string>& wanted_values,
                  const std::set<std::string>& claimed, const Existing& ex, OnRemoved on_removed,
                  Plan& plan) {
  for (const auto& [value, id] : mapping) {
    if (wanted_values.count(value)) continue;
    const auto it = ex.by_id.find(id);
    if (it == ex.by_id.end() || claimed.count(id)) continue;  // gone, or another value's now
    const Option& o = *it->second;
    if (on_removed == OnRemoved::delete_) {
      plan.remove.emplace_back(value, id);
      ++plan.counts.deleted;
      continue;
    }
    plan.mapping[value] = id;  // kept (disabled or as is): it is re-enabled if it returns
    if (on_removed == OnRemoved::disable && !o.disabled) {
      plan.update.push_back({id, o.value, true});
      ++plan.counts.disabled;
    } else {
      ++plan.counts.unchanged;
    }
  }
}

// One option on its own, after Jira refused its batch: refused again → a problem of this
// option; any other failure stops the run (false).
bool create_one(Client& client, const std::string& context, const Wanted& w, RunResult& out) {
  auto created = client.create(context, {{"", w.label, false}});
  if (created.ok()) {
    out.mapping[w.value] = created->front().id;
    ++out.created;
    return true;
  }
  if (created.error().code != "target.jira_rejected") {
    out.error = created.error();
    return false;
  }
  out.problems.push_back({w.value, w.label, "target.jira_rejected", created.error().message});
  return true;
}

}  // namespace

OnRemoved on_removed_from(const std::string& text) {
  if (text == "delete") return OnRemoved::delete_;
  if (text == "keep") return OnRemoved::keep;
  return OnRemoved::disable;
}

Plan plan_sync(const std::vector<Wanted>& wanted_in, const std::vector<Option>& existing,
               const Mapping& mapping, OnRemoved on_removed) {
  // One entry per value (the first wins), in field order.
  std::vector<Wanted> wanted;
  std::set<std::string> wanted_values;
  for (const auto& w : wanted_in)
    if (wanted_values.insert(w.value).second) wanted.push_back(w);

  const Existing ex = index(existing);
  const auto claim = claims(wanted, ex, mapping);
  std::set<std::string> claimed;
  for (const auto& [value, id] : claim) claimed.insert(id);

  Plan plan;
  // Labels Jira already holds and keeps: every option no wanted value claims, unless it is
  // about to be deleted.
  std::set<std::string> deleted_ids;
  if (on_removed == OnRemoved::delete_)
    for (const auto& [value, id] : mapping)
      if (!wanted_values.count(value)) deleted_ids.insert(id);
  std::map<std::string, std::string> taken;  // folded label → who holds it
  for (const auto& o : existing)
    if (!claimed.count(o.id) && !deleted_ids.count(o.id))
      taken.emplace(lower(o.value), "the Jira option '" + o.value + "' (id " + o.id + ")");

  for (const auto& w : wanted) {
    if (characters(w.label) > kMaxOptionLength) {
      plan.problems.push_back({w.value, w.label, "target.option_too_long",
                               "'" + w.label.substr(0, 40) + "…' has " +
                                   std::to_string(characters(w.label)) +
                                   " characters; Jira allows at most 255"});
      if (auto m = mapping.find(w.value); m != mapping.end()) plan.mapping[w.value] = m->second;
      continue;
    }
    auto [held, fresh] = taken.emplace(lower(w.label), "'" + w.label + "' (value " + w.value + ")");
    if (!fresh) {
      plan.problems.push_back({w.value, w.label, "target.option_duplicate",
                               "'" + w.label + "' differs only in case from " + held->second +
                                   "; Jira compares option values case-insensitively"});
      if (auto m = mapping.find(w.value); m != mapping.end()) plan.mapping[w.value] = m->second;
      continue;
    }
    const auto c = claim.find(w.value);
    if (c == claim.end()) {
      plan.create.push_back(w);
      ++plan.counts.created;
      continue;
    }
    const Option& o = *ex.by_id.at(c->second);
    plan.mapping[w.value] = o.id;
    if (o.value != w.label) {
      plan.update.push_back({o.id, w.label, false});
      ++plan.counts.updated;
    } else if (o.disabled) {
      plan.update.push_back({o.id, w.label, false});
      ++plan.counts.enabled;
    } else {
      ++plan.counts.unchanged;
    }
  }
  plan_removed(mapping, wanted_values, claimed, ex, on_removed, plan);
  return plan;
}

RunResult run_sync(Client& client, const std::string& context, const Plan& plan) {
  RunResult out;
  out.mapping = plan.mapping;
  // Until its DELETE succeeded, a removed option stays mapped (it still exists).
  for (const auto& [value, id] : plan.remove) out.mapping[value] = id;
  for (const auto& [value, id] : plan.remove) {
    if (auto done = client.remove(context, id); !done.ok()) {
      out.error = done.error();
      return out;
    }
    out.mapping.erase(value);
  }
  for (size_t at = 0; at < plan.update.size(); at += kMaxBatch) {
    const std::vector<Option> batch(
        plan.update.begin() + at,
        plan.update.begin() + std::min(plan.update.size(), at + kMaxBatch));
    if (auto done = client.update(context, batch); !done.ok()) {
      out.error = done.error();
      return out;
    }
  }
  for (size_t at = 0; at < plan.create.size(); at += kMaxBatch) {
    std::vector<Option> batch;
    const size_t end = std::min(plan.create.size(), at + kMaxBatch);
    for (size_t i = at; i < end; ++i) batch.push_back({"", plan.create[i].label, false});
    auto created = client.create(context, batch);
    if (created.ok()) {
      for (size_t i = at; i < end; ++i) out.mapping[plan.create[i].value] = (*created)[i - at].id;
      out.created += end - at;
      continue;
    }
    if (created.error().code != "target.jira_rejected") {
      out.error = created.error();
      return out;
    }
    for (size_t i = at; i < end; ++i)
      if (!create_one(client, context, plan.create[i], out)) return out;
  }
  return out;
}

}  // namespace extdata::targets::jira
