#pragma once
// The subset of OData $filter that SharePoint list items accept through Graph:
// comparisons on `fields/{column}` (eq ne gt ge lt le), startswith(fields/X,'…'),
// combined with and / or and parentheses.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "fixture.h"

namespace graphsim {

class Filter {
 public:
  enum class Kind { And, Or, Compare, StartsWith };
  enum class Op { Eq, Ne, Gt, Ge, Lt, Le };
  struct Node {
    Kind kind = Kind::Compare;
    std::vector<std::unique_ptr<Node>> children;
    int column = -1;
    Op op = Op::Eq;
    nlohmann::json literal;
  };

  bool matches(const ItemSpec& item, const ListSpec& list) const;

  std::shared_ptr<Node> root;
  std::vector<int> columns;  // every column the filter reads (for the index check)
};

Result<Filter> parse_item_filter(std::string_view text, const ListSpec& list);
// Lists accept `displayName eq '…'` only; returns the name.
std::optional<std::string> parse_list_filter(std::string_view text);

}  // namespace graphsim
