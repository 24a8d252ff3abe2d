#pragma once
// XML records by XPath 1.0 (pugixml).
//
//   XmlQuery query;
//   query.records = "//m:entry";
//   query.columns = {{"title", "m:title"}, {"id", "@id"}};   // relative to each record
//   query.namespaces = {{"m", "http://example.com/ns"}};
//   auto json = xml_records_to_json(xml_text, query);         // [{"title": "...", "id": "..."}]
//
// Namespaces: XPath 1.0 in pugixml matches qualified names literally, so elements and
// attributes whose namespace URI is configured are renamed to the configured prefix before
// the query runs: `m:title` then matches <title xmlns="http://example.com/ns"> as well as
// <x:title xmlns:x="http://example.com/ns">.
//
// Column values: a node-set gives the string value of its first node (missing when empty);
// string, number and boolean expressions give their XPath string value. Without columns a
// record becomes {"name": element name, "@attr": ..., "child": text of the first such child,
// "#text": own text}.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace extdata::extract {

struct XmlQuery {
  std::string records = "/*";
  std::vector<std::pair<std::string, std::string>> columns;     // name, XPath
  std::vector<std::pair<std::string, std::string>> namespaces;  // prefix, URI
};

// Errors: "xml.syntax" (with the line and column), "xpath.syntax" (with the offset), "xml.utf8".
Result<std::string> xml_records_to_json(std::string_view xml_text, const XmlQuery& query);

// Checks an XPath expression without a document (for save-time validation and the CLI).
Status validate_xpath(std::string_view expression);

}  // namespace extdata::extract

namespace extdata::extract {
// Evaluates one XPath over a document: the string values of the selected nodes, or the single
// string value of a string / number / boolean expression, as a JSON array of strings.
Result<std::string> xpath_values_json(
    std::string_view xml_text, std::string_view expression,
    const std::vector<std::pair<std::string, std::string>>& namespaces);
}  // namespace extdata::extract
