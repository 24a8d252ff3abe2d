#include "extract/xml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <map>
#include <memory>

#include "core/limits.h"
#include "extract/json_text.h"
#include "extract/utf8.h"

namespace extdata::extract {
namespace {

Error xpath_error(std::string_view expression, const pugi::xpath_parse_result& result) {
  Error error("xpath.syntax",
              "XPath error at " + std::to_string(result.offset) + " in '" +
                  std::string(expression) + "': " + result.description(),
              "check the XPath 1.0 expression");
  error.with("position", std::to_string(result.offset));
  return error;
}

Result<std::unique_ptr<pugi::xpath_query>> compile_xpath(std::string_view expression) {
  try {
    auto query = std::make_unique<pugi::xpath_query>(std::string(expression).c_str());
    if (!query->result()) return xpath_error(expression, query->result());
    return query;
  } catch (const pugi::xpath_exception& e) {
    return xpath_error(expression, e.result());
  } catch (const std::bad_alloc&) {
    return Error("xpath.syntax", "XPath expression too large", "");
  }
}

// Renames elements and attributes in configured namespaces to "<configured prefix>:<local>".
// Iterative, so deep documents cannot overflow the stack.
void apply_namespace_prefixes(pugi::xml_document& document,
                              const std::vector<std::pair<std::string, std::string>>& namespaces) {
  if (namespaces.empty()) return;
  std::map<std::string, std::string> prefix_for_uri;
  for (const auto& [prefix, uri] : namespaces) prefix_for_uri.emplace(uri, prefix);

  struct Frame {
    pugi::xml_node node;
    std::map<std::string, std::string> scope;  // document prefix -> URI ("" = default namespace)
  };
  std::vector<Frame> stack;
  for (pugi::xml_node child = document.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element) stack.push_back({child, {}});
  }
  const auto local_and_prefix = [](std::string_view name, std::string_view& prefix,
                                   std::string_view& local) {
    const size_t colon = name.find(':');
    if (colon == std::string_view::npos) {
      prefix = {}, local = name;
    } else {
      prefix = name.substr(0, colon), local = name.substr(colon + 1);
    }
  };
  while (!stack.empty()) {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    for (pugi::xml_attribute attribute : frame.node.attributes()) {
      const std::string_view name = attribute.name();
      if (name == "xmlns")
        frame.scope[""] = attribute.value();
      else if (name.substr(0, 6) == "xmlns:")
        frame.scope[std::string(name.substr(6))] = attribute.value();
    }
    std::string_view prefix, local;
    local_and_prefix(frame.node.name(), prefix, local);
    if (auto uri = frame.scope.find(std::string(prefix)); uri != frame.scope.end()) {
      if (auto configured = prefix_for_uri.find(uri->second); configured != prefix_for_uri.end()) {
        frame.node.set_name((configured->second + ":" + std::string(local)).c_str());
      }
    }
    for (pugi::xml_attribute attribute : frame.node.attributes()) {
      local_and_prefix(attribute.name(), prefix, local);
      if (prefix.empty() || prefix == "xmlns") continue;  // unprefixed attributes have no namespace
      if (auto uri = frame.scope.find(std::string(prefix)); uri != frame.scope.end()) {
        if (auto configured = prefix_for_uri.find(uri->second);
            configured != prefix_for_uri.end()) {
          attribute.set_name((configured->second + ":" + std::string(local)).c_str());
        }
      }
    }
    for (pugi::xml_node child = frame.node.first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element) stack.push_back({child, frame.scope});
    }
  }
}

std::string node_string_value(const pugi::xpath_node& node) {
  if (node.attribute()) return node.attribute().value();
  return pugi::xpath_query(".").evaluate_string(node);
}

void append_default_record(std::string& out, pugi::xml_node node) {
  out += "{\"name\":";
  append_json_string(out, node.name());
  std::vector<std::string> seen{"name"};
  const auto add = [&](const std::string& key, const std::string& value) {
    for (const auto& s : seen) {
      if (s == key) return;
    }
    seen.push_back(key);
    out += ',';
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
  };
  for (pugi::xml_attribute attribute : node.attributes())
    add(std::string("@") + attribute.name(), attribute.value());
  std::string own_text;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element) {
      add(child.name(), child.text().get());
    } else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      own_text += child.value();
    }
  }
  if (!own_text.empty()) add("#text", own_text);
  out += '}';
}

}  // namespace

Status validate_xpath(std::string_view expression) {
  EXTDATA_ASSIGN_OR_RETURN(auto query, compile_xpath(expression));
  (void)query;
  return ok_status();
}

namespace {
// The deepest element nesting, walked without recursion (pugixml parses deep documents
// iteratively; XPath's `//` over them is quadratic in the depth, so depth is capped).
size_t element_depth(const pugi::xml_document& document) {
  size_t depth = 0, deepest = 0;
  pugi::xml_node node = document.first_child();
  while (node) {
    if (node.type() == pugi::node_element) deepest = std::max(deepest, depth + 1);
    if (node.first_child()) {
      node = node.first_child();
      ++depth;
      continue;
    }
    while (node && !node.next_sibling() && node.parent() != document) {
      node = node.parent();
      --depth;
    }
    node = node ? node.next_sibling() : node;
  }
  return deepest;
}

Status load_document(pugi::xml_document& document, std::string_view xml_text,
                     const std::vector<std::pair<std::string, std::string>>& namespaces) {
  if (const size_t bad = utf8::find_invalid(xml_text); bad != std::string_view::npos) {
    return Error("xml.utf8", "the XML is not valid UTF-8 (byte offset " + std::to_string(bad) + ")",
                 "send UTF-8 encoded XML");
  }
  const pugi::xml_parse_result parsed = document.load_buffer(
      xml_text.data(), xml_text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    size_t line = 1, column = 1;
    for (ptrdiff_t i = 0; i < parsed.offset && static_cast<size_t>(i) < xml_text.size(); ++i) {
      if (xml_text[i] == '\n') {
        ++line, column = 1;
      } else {
        ++column;
      }
    }
    Error error("xml.syntax",
                "XML error at line " + std::to_string(line) + ", column " + std::to_string(column) +
                    ": " + parsed.description(),
                "check that the source returns well-formed XML");
    error.with("line", std::to_string(line));
    return error;
  }
  if (element_depth(document) > limits().xml_max_depth)
    return Error("xml.too_deep",
                 "the XML nests elements deeper than " + std::to_string(limits().xml_max_depth) +
                     " levels",
                 "The document is refused by " + describe_limit(&Limits::xml_max_depth) + ".")
        .with("limit", "xml_max_depth");
  apply_namespace_prefixes(document, namespaces);
  return ok_status();
}
}  // namespace

Result<std::string> xpath_values_json(
    std::string_view xml_text, std::string_view expression,
    const std::vector<std::pair<std::string, std::string>>& namespaces) {
  pugi::xml_document document;
  EXTDATA_TRY(load_document(document, xml_text, namespaces));
  EXTDATA_ASSIGN_OR_RETURN(auto query, compile_xpath(expression));
  std::string out = "[";
  try {
    if (query->return_type() == pugi::xpath_type_node_set) {
      bool first = true;
      for (const pugi::xpath_node& node : query->evaluate_node_set(document)) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, node_string_value(node));
      }
    } else {
      append_json_string(out, query->evaluate_string(document));
    }
  } catch (const std::exception& e) {
    return Error("xpath.evaluation", std::string("XPath evaluation failed: ") + e.what(), "");
  }
  out += ']';
  return out;
}

Result<std::string> xml_records_to_json(std::string_view xml_text, const XmlQuery& query) {
  pugi::xml_document document;
  EXTDATA_TRY(load_document(document, xml_text, query.namespaces));

  EXTDATA_ASSIGN_OR_RETURN(auto records_query, compile_xpath(query.records));
  std::vector<std::pair<std::string, std::unique_ptr<pugi::xpath_query>>> columns;
  for (const auto& [name, expression] : query.columns) {
    EXTDATA_ASSIGN_OR_RETURN(auto compiled, compile_xpath(expression));
    columns.emplace_back(name, std::move(compiled));
  }

  std::string out = "[";
  try {
    if (records_query->return_type() != pugi::xpath_type_node_set) {
      return Error("xpath.type", "the records XPath '" + query.records + "' must select nodes", "");
    }
    const pugi::xpath_node_set records = records_query->evaluate_node_set(document);
    bool first_record = true;
    for (const pugi::xpath_node& record : records) {
      if (!first_record) out += ',';
      first_record = false;
      if (columns.empty()) {
        if (record.node()) {
          append_default_record(out, record.node());
        } else {
          out += "{\"name\":";
          append_json_string(out, record.attribute().name());
          out += ",\"#text\":";
          append_json_string(out, record.attribute().value());
          out += '}';
        }
        continue;
      }
      out += '{';
      bool first_column = true;
      for (const auto& [name, column] : columns) {
        std::string value;
        if (column->return_type() == pugi::xpath_type_node_set) {
          const pugi::xpath_node_set nodes = column->evaluate_node_set(record);
          if (nodes.empty()) continue;
          value = node_string_value(nodes.first());
        } else {
          value = column->evaluate_string(record);
        }
        if (!first_column) out += ',';
        first_column = false;
        append_json_string(out, name);
        out += ':';
        append_json_string(out, value);
      }
      out += '}';
    }
  } catch (const std::exception& e) {
    return Error("xpath.evaluation", std::string("XPath evaluation failed: ") + e.what(), "");
  }
  out += ']';
  return out;
}

}  // namespace extdata::extract
