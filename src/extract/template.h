#pragma once
// Templates for labels, values, URLs and bodies, compiled once:
//
//   "{fields.Title} ({fields.Country})"   placeholders name dotted paths or columns
//   "{fields.City|—}"                     a default for a missing (or null) value
//   "{{literal braces}}"                  '{{' and '}}' are literal braces
//
//   auto label = Template::compile("{fields.Title} ({fields.Country|?})");
//   std::string text = label->render(RecordContext(record_set[i]));
//   std::string url = url_template->render(MapContext(variables), percent_encode);
//
// The encoder hook is applied to every substituted value (defaults included); literal text
// is copied as written. Errors: code "template.syntax", message "template error at N: ..."
// (N = 0-based byte offset, also in details["position"]).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "extract/record_set.h"

namespace extdata::extract {

// Resolves the dotted names of placeholders to text.
class TemplateContext {
 public:
  virtual ~TemplateContext() = default;
  // The value of `name`, or nullopt when it has none (the placeholder's default then applies).
  virtual std::optional<std::string> lookup(std::string_view name) const = 0;
};

// Over a record: a column name first, then a dotted path into the record's JSON
// ("fields.Title", "id", "items.0.name"). null counts as missing; strings are inserted as they
// are, numbers and booleans as JSON text, arrays and objects as minified JSON. Names that
// resolve to nothing are looked up in `fallback` when given (e.g. request variables).
class RecordContext : public TemplateContext {
 public:
  explicit RecordContext(RecordRef record, const TemplateContext* fallback = nullptr)
      : record_(record), fallback_(fallback) {}
  std::optional<std::string> lookup(std::string_view name) const override;

 private:
  RecordRef record_;
  const TemplateContext* fallback_;
  mutable std::optional<RecordJson> json_;  // the record, decoded on the first dotted name
};

// Over a plain map of variables (keys are the full dotted names).
class MapContext : public TemplateContext {
 public:
  explicit MapContext(const std::map<std::string, std::string, std::less<>>& values)
      : values_(values) {}
  std::optional<std::string> lookup(std::string_view name) const override;

 private:
  const std::map<std::string, std::string, std::less<>>& values_;
};

// Applied to each substituted value, e.g. percent-encoding for URLs.
using TemplateEncoder = std::function<std::string(std::string_view)>;

class Template {
 public:
  static constexpr size_t kMaxLength = 64 * 1024;

  static Result<Template> compile(std::string_view text);

  std::string render(const TemplateContext& context, const TemplateEncoder& encode = {}) const;

  // Every placeholder name, each once, in order of first use.
  const std::vector<std::string>& referenced_names() const { return names_; }
  const std::string& text() const { return text_; }

 private:
  struct Part {
    bool literal = true;
    std::string text;  // literal text, or the placeholder name
    std::optional<std::string> fallback;
  };
  std::string text_;
  std::vector<Part> parts_;
  std::vector<std::string> names_;
};

}  // namespace extdata::extract
