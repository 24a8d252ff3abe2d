#include "extract/template.h"

#include <algorithm>

#include "core/strings.h"
#include "extract/json_text.h"
#include "extract/utf8.h"

namespace extdata::extract {
namespace {

Error template_error(size_t position, const std::string& what, const std::string& hint = {}) {
  Error error(
      "template.syntax", "template error at " + std::to_string(position) + ": " + what,
      hint.empty()
          ? "placeholders look like {name} or {name|default}; write {{ and }} for literal braces"
          : hint);
  error.with("position", std::to_string(position));
  return error;
}

std::optional<simdjson::dom::element> resolve_dotted(simdjson::dom::element node,
                                                     std::string_view name) {
  while (true) {
    const size_t dot = name.find('.');
    const std::string_view key = name.substr(0, dot);
    simdjson::dom::object object;
    simdjson::dom::array array;
    if (node.get_object().get(object) == simdjson::SUCCESS) {
      if (object.at_key(key).get(node) != simdjson::SUCCESS) return std::nullopt;
    } else if (node.get_array().get(array) == simdjson::SUCCESS) {
      if (key.empty() || key.size() > 9 ||
          !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
      }
      if (array.at(std::stoul(std::string(key))).get(node) != simdjson::SUCCESS)
        return std::nullopt;
    } else {
      return std::nullopt;
    }
    if (dot == std::string_view::npos) return node;
    name.remove_prefix(dot + 1);
  }
}

}  // namespace

std::optional<std::string> RecordContext::lookup(std::string_view name) const {
  if (const auto column = record_.set().column_index(name)) {
    const auto value = record_.column(*column);
    if (value && !value->root().is_null()) return display_text(value->root());
  } else {
    if (!json_) json_.emplace(record_.json());  // decoded once for all placeholders
    const auto value = resolve_dotted(json_->root(), name);
    if (value && !value->is_null()) return display_text(*value);
  }
  if (fallback_) return fallback_->lookup(name);
  return std::nullopt;
}

std::optional<std::string> MapContext::lookup(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<Template> Template::compile(std::string_view text) {
  if (text.size() > kMaxLength) {
    return Error("template.too_long",
                 "template is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                     std::to_string(kMaxLength),
                 "shorten the template");
  }
  if (const size_t bad = utf8::find_invalid(text); bad != std::string_view::npos) {
    return template_error(bad, "invalid UTF-8", "templates must be UTF-8 text");
  }
  Template compiled;
  compiled.text_ = std::string(text);
  std::string literal;
  const auto flush_literal = [&]() {
    if (!literal.empty()) compiled.parts_.push_back({true, std::move(literal), std::nullopt});
    literal.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      i += 2;
      continue;
    }
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        i += 2;
        continue;
      }
      return template_error(i, "unmatched '}' (write '}}' for a literal brace)");
    }
    if (c != '{') {
      literal.push_back(c);
      ++i;
      continue;
    }
    const size_t open = i;
    const size_t close = text.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || text[close] == '{') {
      return template_error(open, "unterminated placeholder: expected '}'");
    }
    std::string_view inside = text.substr(open + 1, close - open - 1);
    Part part;
    part.literal = false;
    const size_t bar = inside.find('|');
    if (bar != std::string_view::npos) {
      part.fallback = std::string(inside.substr(bar + 1));
      inside = inside.substr(0, bar);
    }
    const std::string_view name = trim(inside);
    if (name.empty()) return template_error(open + 1, "empty placeholder name");
    for (size_t k = 0; k < name.size(); ++k) {
      if (static_cast<unsigned char>(name[k]) < 0x20) {
        return template_error(open + 1, "control character in placeholder name");
      }
    }
    part.text = std::string(name);
    if (std::find(compiled.names_.begin(), compiled.names_.end(), part.text) ==
        compiled.names_.end()) {
      compiled.names_.push_back(part.text);
    }
    flush_literal();
    compiled.parts_.push_back(std::move(part));
    i = close + 1;
  }
  flush_literal();
  return compiled;
}

std::string Template::render(const TemplateContext& context, const TemplateEncoder& encode) const {
  std::string out;
  for (const Part& part : parts_) {
    if (part.literal) {
      out += part.text;
      continue;
    }
    std::optional<std::string> value = context.lookup(part.text);
    if (!value) value = part.fallback;
    if (!value) continue;
    if (encode) {
      out += encode(*value);
    } else {
      out += *value;
    }
  }
  return out;
}

}  // namespace extdata::extract
