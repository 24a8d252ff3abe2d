#include "cli/query_command.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/error_codes.h"
#include "extract/csv.h"
#include "extract/jsonpath/jsonpath.h"
#include "extract/xml.h"

namespace extdata::cli {
namespace {

struct QueryOptions {
  std::string expression;
  std::string file;
  bool paths = false;
  bool xml = false;
  bool csv = false;
  std::string delimiter;
  bool no_header = false;
  std::vector<std::string> namespaces;  // prefix=uri
};

Result<std::string> read_input(const std::string& file) {
  std::ostringstream buffer;
  if (file.empty() || file == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error("cli.file", "cannot read '" + file + "'", "check the path and permissions");
  buffer << in.rdbuf();
  return buffer.str();
}

Result<std::string> json_query(const extract::JsonPath& path, std::string document, bool paths) {
  document.reserve(document.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto error = parser.parse(document.data(), document.size(), false).get(root);
  if (error) {
    return Error("extract.json",
                 std::string("the input is not valid JSON: ") + simdjson::error_message(error),
                 "use --xml or --csv for other formats");
  }
  std::string out = "[";
  bool first = true;
  const auto add = [&](const std::string& item) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += item;
  };
  if (paths) {
    EXTDATA_ASSIGN_OR_RETURN(auto selected, path.select_paths(root));
    for (const std::string& p : selected) {
      std::string quoted = "\"";
      for (char c : p) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      add(quoted + "\"");
    }
  } else {
    EXTDATA_ASSIGN_OR_RETURN(auto selected, path.select(root));
    for (const auto& e : selected) add(simdjson::minify(e));
  }
  out += first ? "]" : "\n]";
  return out;
}

Result<std::string> run_query(const QueryOptions& options) {
  if (options.xml && options.csv)
    return Error("cli.usage", "--xml and --csv cannot be combined", "");
  if (options.xml && options.paths)
    return Error("cli.usage", "--paths applies to JSONPath queries only", "");
  if (options.xml) {
    std::vector<std::pair<std::string, std::string>> namespaces;
    for (const std::string& binding : options.namespaces) {
      const size_t eq = binding.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error("cli.usage", "--ns expects PREFIX=URI, got '" + binding + "'", "");
      }
      namespaces.emplace_back(binding.substr(0, eq), binding.substr(eq + 1));
    }
    EXTDATA_TRY(extract::validate_xpath(options.expression));
    EXTDATA_ASSIGN_OR_RETURN(std::string input, read_input(options.file));
    EXTDATA_ASSIGN_OR_RETURN(std::string values,
                             extract::xpath_values_json(input, options.expression, namespaces));
    return values;
  }
  EXTDATA_ASSIGN_OR_RETURN(extract::JsonPath path, extract::JsonPath::compile(options.expression));
  EXTDATA_ASSIGN_OR_RETURN(std::string input, read_input(options.file));
  if (options.csv) {
    extract::CsvOptions csv;
    csv.header = !options.no_header;
    if (options.delimiter == "tab" || options.delimiter == "\\t") {
      csv.delimiter = '\t';
    } else if (options.delimiter.size() == 1) {
      csv.delimiter = options.delimiter[0];
    } else if (!options.delimiter.empty()) {
      return Error("cli.usage", "--delimiter must be ',', ';' or tab", "");
    }
    EXTDATA_ASSIGN_OR_RETURN(extract::CsvTable table, extract::parse_csv(input, csv));
    input = extract::csv_table_to_json(table);
  }
  return json_query(path, std::move(input), options.paths);
}

}  // namespace

void add_query_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<QueryOptions>();
  CLI::App* query = app.add_subcommand(
      "query", "Evaluate a JSONPath (or XPath with --xml) and print the results");
  query->add_option("EXPR", options->expression, "JSONPath (RFC 9535), or XPath 1.0 with --xml")
      ->required();
  query->add_option("FILE", options->file, "input file (default: stdin)");
  query->add_flag("--paths", options->paths, "print normalized paths instead of values");
  query->add_flag("--xml", options->xml, "the input is XML and EXPR an XPath");
  query->add_flag("--csv", options->csv,
                  "the input is CSV; EXPR applies to [{header: value}, ...]");
  query->add_option("--delimiter", options->delimiter,
                    "CSV delimiter: ',', ';' or tab (default: detect)");
  query->add_flag("--no-header", options->no_header,
                  "CSV without a header row (columns column1..N)");
  query->add_option("--ns", options->namespaces, "XML namespace binding PREFIX=URI (repeatable)");
  query->callback([options, &exit_code]() {
    auto result = run_query(*options);
    if (!result.ok()) {
      std::cerr << "error: " << result.error().message << "\n";
      if (!result.error().hint.empty()) std::cerr << "hint: " << result.error().hint << "\n";
      exit_code = extdata::exit_code(result.error());
      return;
    }
    std::cout << *result << "\n";
    exit_code = 0;
  });
}

}  // namespace extdata::cli
