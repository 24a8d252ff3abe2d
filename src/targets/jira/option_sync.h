#pragma once
// What a jira-field-options sync changes, decided before anything is sent (plan_sync, pure),
// and the run that sends it (run_sync).
//
// The mapping extdata value → Jira option id is kept between runs (the target's state in the
// store), so a label that changed is a PUT of the same option — issues keep their value —
// never a delete and a create. An option whose value left the field is disabled, deleted or
// kept (on_removed); one that comes back is re-enabled. An unmapped Jira option with exactly
// the wanted label is adopted instead of created (a first run over a filled context).
//
// Jira refuses a whole POST when one option in it is invalid, so options it would refuse are
// reported per option and left out beforehand: a label over 255 characters, and labels that
// differ only in case from another option of the context (Jira compares case-insensitively).
//
// Order of writes: DELETEs, then PUTs (renames first free their old labels), then POSTs, in
// batches of at most 1,000. A write that fails stops the run; the mapping of everything done
// until then is kept, and the next run continues from there.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "targets/jira/jira_client.h"

namespace extdata::targets::jira {

enum class OnRemoved { disable, delete_, keep };
OnRemoved on_removed_from(const std::string& text);  // "disable" | "delete" | "keep"

struct Wanted {
  std::string value;  // the extdata option's value (its stable key)
  std::string label;  // what Jira shows: the option's value there
};

using Mapping = std::map<std::string, std::string>;  // extdata value → Jira option id

struct Counts {
  size_t created = 0, updated = 0, disabled = 0, deleted = 0, enabled = 0, unchanged = 0;
  size_t writes() const { return created + updated + disabled + deleted + enabled; }
};

struct OptionProblem {
  std::string value;
  std::string label;
  std::string code;  // target.option_too_long | target.option_duplicate
  std::string message;
};

struct Plan {
  std::vector<Wanted> create;                               // POST, in field order
  std::vector<Option> update;                               // PUT: renames, re-enables, disables
  std::vector<std::pair<std::string, std::string>> remove;  // DELETE: (value, option id)
  Mapping mapping;  // the mapping once the plan is done (creates
                    // are added by run_sync as Jira answers)
  Counts counts;
  std::vector<OptionProblem> problems;
};

Plan plan_sync(const std::vector<Wanted>& wanted, const std::vector<Option>& existing,
               const Mapping& mapping, OnRemoved on_removed);

struct RunResult {
  Mapping mapping;  // what is true in Jira now (as far as the run got)
  std::optional<Error> error;
  // Options Jira refused (400) although the plan let them through: a batch Jira refuses is
  // sent again one option at a time, and each refused one is reported here.
  std::vector<OptionProblem> problems;
  size_t created = 0;
};

// Sends the plan through `client` (batches ≤ kMaxBatch); stops at the first failed write.
RunResult run_sync(Client& client, const std::string& context, const Plan& plan);

}  // namespace extdata::targets::jira
