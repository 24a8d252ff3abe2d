// plan_sync: what a jira-field-options sync decides before it sends anything.
#include "targets/jira/option_sync.h"

#include <gtest/gtest.h>

namespace extdata::targets::jira {
namespace {

std::vector<Wanted> wanted(std::initializer_list<std::pair<const char*, const char*>> items) {
  std::vector<Wanted> out;
  for (const auto& [value, label] : items) out.push_back({value, label});
  return out;
}

TEST(PlanSync, FirstRunCreatesEveryOptionInFieldOrder) {
  const auto plan = plan_sync(wanted({{"1", "Acme"}, {"2", "Beta"}}), {}, {}, OnRemoved::disable);
  ASSERT_EQ(plan.create.size(), 2u);
  EXPECT_EQ(plan.create[0].label, "Acme");
  EXPECT_EQ(plan.create[1].label, "Beta");
  EXPECT_EQ(plan.counts.created, 2u);
  EXPECT_TRUE(plan.update.empty());
}

TEST(PlanSync, ARenamedLabelIsAnUpdateOfTheMappedOptionNotADeleteAndCreate) {
  const auto plan = plan_sync(wanted({{"1", "Acme Corp"}}), {{"100", "Acme", false}},
                              {{"1", "100"}}, OnRemoved::delete_);
  ASSERT_EQ(plan.update.size(), 1u);
  EXPECT_EQ(plan.update[0].id, "100");
  EXPECT_EQ(plan.update[0].value, "Acme Corp");
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(plan.counts.updated, 1u);
  EXPECT_EQ(plan.mapping.at("1"), "100");
}

TEST(PlanSync, RemovedValuesAreDisabledDeletedOrKeptAsConfigured) {
  const std::vector<Option> existing = {{"100", "Acme", false}, {"101", "Beta", false}};
  const Mapping mapping = {{"1", "100"}, {"2", "101"}};
  const auto disable = plan_sync(wanted({{"1", "Acme"}}), existing, mapping, OnRemoved::disable);
  ASSERT_EQ(disable.update.size(), 1u);
  EXPECT_TRUE(disable.update[0].disabled);
  EXPECT_EQ(disable.counts.disabled, 1u);
  EXPECT_EQ(disable.mapping.count("2"), 1u);  // kept mapped, so a return re-enables it

  const auto remove = plan_sync(wanted({{"1", "Acme"}}), existing, mapping, OnRemoved::delete_);
  ASSERT_EQ(remove.remove.size(), 1u);
  EXPECT_EQ(remove.remove[0].second, "101");
  EXPECT_EQ(remove.counts.deleted, 1u);
  EXPECT_EQ(remove.mapping.count("2"), 0u);

  const auto keep = plan_sync(wanted({{"1", "Acme"}}), existing, mapping, OnRemoved::keep);
  EXPECT_TRUE(keep.update.empty());
  EXPECT_EQ(keep.counts.unchanged, 2u);
}

TEST(PlanSync, AReturningValueReEnablesItsDisabledOption) {
  const auto plan = plan_sync(wanted({{"2", "Beta"}}), {{"101", "Beta", true}}, {{"2", "101"}},
                              OnRemoved::disable);
  ASSERT_EQ(plan.update.size(), 1u);
  EXPECT_FALSE(plan.update[0].disabled);
  EXPECT_EQ(plan.counts.enabled, 1u);
}

TEST(PlanSync, AnUnmappedJiraOptionWithTheSameLabelIsAdoptedInsteadOfCreated) {
  const auto plan =
      plan_sync(wanted({{"1", "Acme"}}), {{"100", "Acme", false}}, {}, OnRemoved::disable);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_EQ(plan.mapping.at("1"), "100");
  EXPECT_EQ(plan.counts.unchanged, 1u);
}

TEST(PlanSync, TooLongAndCaseInsensitiveDuplicateLabelsAreReportedPerOptionAndLeftOut) {
  const auto plan = plan_sync(wanted({{"1", "Acme"},
                                      {"2", std::string(256, 'x').c_str()},
                                      {"3", "ACME"},
                                      {"4", "Zeta"},
                                      {"5", "other"}}),
                              {{"900", "OTHER", false}}, {}, OnRemoved::disable);
  ASSERT_EQ(plan.problems.size(), 3u);
  EXPECT_EQ(plan.problems[0].code, "target.option_too_long");
  EXPECT_EQ(plan.problems[1].code, "target.option_duplicate");
  EXPECT_EQ(plan.problems[1].value, "3");
  EXPECT_EQ(plan.problems[2].value, "5");  // clashes with an option extdata does not manage
  ASSERT_EQ(plan.create.size(), 2u);       // the rest still goes through
  EXPECT_EQ(plan.create[1].label, "Zeta");
}

TEST(PlanSync, ALabelOf255CharactersCountsCharactersNotBytes) {
  std::string label;
  for (int i = 0; i < 255; ++i) label += "\xc3\xa9";  // é, two bytes each
  const auto plan = plan_sync({{"1", label}}, {}, {}, OnRemoved::disable);
  EXPECT_TRUE(plan.problems.empty());
  EXPECT_EQ(plan.create.size(), 1u);
}

TEST(PlanSync, NothingChangedMeansNoWrites) {
  const auto plan = plan_sync(wanted({{"1", "Acme"}}), {{"100", "Acme", false}}, {{"1", "100"}},
                              OnRemoved::disable);
  EXPECT_EQ(plan.counts.writes(), 0u);
  EXPECT_EQ(plan.counts.unchanged, 1u);
}

}  // namespace
}  // namespace extdata::targets::jira
