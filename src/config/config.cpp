#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/document_guard.h"
#include "config/schema.h"
#include "core/redact.h"
#include "core/time.h"
#include "core/url_template.h"
#include "core/url.h"

namespace extdata::config {

using nlohmann::json;

std::string Issue::to_string() const {
  std::string out = path;
  if (line > 0) out += " (line " + std::to_string(line) + ")";
  out += (out.empty() ? "" : ": ") + message;
  if (!hint.empty()) out += " — " + hint;
  return out;
}

json SourceConfig::masked() const {
  json out = spec;
  for (const auto& ptr : secret_pointers) {
    json::json_pointer p(ptr);
    if (out.contains(p)) out[p] = json{{"set", true}};
  }
  return out;
}

json TargetConfig::masked() const {
  json out = spec;
  for (const auto& ptr : secret_pointers) {
    json::json_pointer p(ptr);
    if (out.contains(p)) out[p] = json{{"set", true}};
  }
  return out;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::optional<double> parse_duration(std::string_view text) {
  return parse_duration_seconds(text);
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  // Optimal string alignment distance: Levenshtein plus swapped neighbours as one edit, the
  // commonest typing slip ("lsit" is one edit from "list", two from "site").
  auto distance = [](std::string_view a, std::string_view b) {
    auto same = [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) ==
             std::tolower(static_cast<unsigned char>(y));
    };
    std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
        if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
          cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
      std::swap(before, prev);
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  for (const auto& c : candidates)
    if (word.size() >= 3 && (c.starts_with(word) || word.starts_with(c))) return c;
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

// http(s)://authority[/?#rest]: a non-empty authority, no whitespace anywhere. One pass over
// the text (a regex here overflowed the stack on a 60,000-character URL).
bool is_http_url(std::string_view url) {
  size_t start = starts_with_icase(url, "https://") ? 8 : starts_with_icase(url, "http://") ? 7 : 0;
  if (start == 0 || start == url.size()) return false;
  const char first = url[start];
  if (first == '/' || first == '?' || first == '#') return false;
  return std::none_of(url.begin() + start, url.end(), is_space);
}

// YYYY-MM-DD with a month 1-12 and a day 1-31.
bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  int month = (text[5] - '0') * 10 + (text[6] - '0');
  int day = (text[8] - '0') * 10 + (text[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

constexpr const char* kHostReferenceMessage =
    "${env:NAME}, ${file:NAME} and {{env.NAME}} read the server's environment and files; "
    "documents sent through the API may not use them";
constexpr const char* kHostReferenceHint =
    "Send the value itself (secrets are stored sealed), or let an operator apply the document "
    "with 'extdata apply' (${file:} reads only the secrets directory).";

// One ${env:NAME} or ${file:PATH} reference found in a string.
struct Reference {
  size_t begin = 0, end = 0;  // [begin, end) covers "${...}"
  std::string kind, arg;
};

// The next reference at or after `from`; linear in the text.
std::optional<Reference> next_reference(const std::string& text, size_t from) {
  for (size_t at = text.find("${", from); at != std::string::npos; at = text.find("${", at + 2)) {
    std::string_view rest = std::string_view(text).substr(at + 2);
    std::string kind = rest.starts_with("env:") ? "env" : rest.starts_with("file:") ? "file" : "";
    if (kind.empty()) continue;
    size_t arg_begin = at + 2 + kind.size() + 1;
    size_t close = text.find('}', arg_begin);
    if (close == std::string::npos) return std::nullopt;  // no later reference can close either
    return Reference{at, close + 1, kind, text.substr(arg_begin, close - arg_begin)};
  }
  return std::nullopt;
}

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

class Validator {
 public:
  explicit Validator(const ParseOptions& options) : options_(options) {}

  std::vector<Issue> issues;
  std::set<std::string> secret_pointers;  // for the object being validated

  void add(const std::string& path, const YAML::Node& node, std::string message,
           std::string hint = {}) {
    issues.push_back({path, line_of(node), std::move(message), std::move(hint)});
  }

  static int line_of(const YAML::Node& node) {
    if (!node.IsDefined()) return 0;
    auto mark = node.Mark();
    return mark.line >= 0 ? mark.line + 1 : 0;
  }

  // Resolves ${env:NAME} and ${file:PATH} references inside a string (References::resolve);
  // keeps the text as written otherwise.
  std::optional<std::string> resolve_refs(const std::string& path, const YAML::Node& node,
                                          const std::string& text, bool is_secret) {
    if (options_.references == References::literal) {
      if (is_secret) register_secret(text);
      return text;
    }
    if (options_.references == References::refuse && next_reference(text, 0)) {
      add(path, node, kHostReferenceMessage, kHostReferenceHint);
      return std::nullopt;
    }
    std::string out;
    size_t last = 0;
    for (auto m = next_reference(text, 0); m; m = next_reference(text, last)) {
      out += text.substr(last, m->begin - last);
      last = m->end;
      if (m->arg.empty()) {
        add(path, node, "${" + m->kind + ":} needs a name",
            "Write ${env:NAME} or ${file:NAME} (a file in the secrets directory).");
        return std::nullopt;
      }
      auto value = m->kind == "env" ? env_value(m->arg) : secret_file(m->arg);
      if (!value.ok()) {
        add(path, node, value.error().message, value.error().hint);
        return std::nullopt;
      }
      out += *value;
    }
    out += text.substr(last);
    if (is_secret) register_secret(out);
    return out;
  }

  static Result<std::string> env_value(const std::string& name) {
    // The key that unseals the store never leaves the process, whoever wrote the document.
    if (name == "EXTDATA_MASTER_KEY")
      return Error("config.invalid", "${env:EXTDATA_MASTER_KEY} is the store's master key",
                   "Never send it upstream; reference the credential's own variable.");
    const char* v = std::getenv(name.c_str());
    if (!v)
      return Error("config.invalid", "environment variable " + name + " is not set",
                   "Export " + name + " before running, or write the value inline.");
    return std::string(v);
  }

  // ${file:NAME}: a file inside the operator's secrets directory, nowhere else.
  Result<std::string> secret_file(const std::string& arg) const {
    namespace fs = std::filesystem;
    const std::string ref = "${file:" + arg + "}";
    if (options_.secrets_dir.empty())
      return Error("config.invalid", ref + " needs a secrets directory",
                   "Start extdata with --secrets-dir DIR (or EXTDATA_SECRETS_DIR=DIR) and put "
                   "the file there, or use ${env:NAME}.");
    for (const auto& part : fs::path(arg))
      if (part == "..")
        return Error("config.invalid", ref + ": '..' is not allowed",
                     "Name a file inside the secrets directory " + options_.secrets_dir + ".");
    std::error_code ec;
    const fs::path dir = fs::canonical(options_.secrets_dir, ec);
    if (ec)
      return Error(
          "config.invalid",
          "the secrets directory " + options_.secrets_dir + " cannot be opened: " + ec.message(),
          "Check --secrets-dir / EXTDATA_SECRETS_DIR.");
    const fs::path written = fs::path(arg).is_absolute() ? fs::path(arg) : dir / arg;
    const fs::path file = fs::canonical(written, ec);
    if (ec)
      return Error("config.invalid", "cannot read file " + written.string() + " (from " + ref + ")",
                   "Check that the file exists in the secrets directory and is readable.");
    const fs::path inside = file.lexically_relative(dir);
    if (inside.empty() || *inside.begin() == ".." || inside == ".")
      return Error("config.invalid", ref + " is outside the secrets directory " + dir.string(),
                   "Put the file inside it (symbolic links must point inside it too).");
    std::ifstream in(file, std::ios::binary);
    if (!fs::is_regular_file(file, ec) || !in)
      return Error("config.invalid", "cannot read file " + file.string() + " (from " + ref + ")",
                   "Check that it is a readable file.");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = ss.str();
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
      content.pop_back();
    return content;
  }

  std::optional<json> scalar(const Setting& st, const std::string& path, const std::string& ptr,
                             const YAML::Node& node) {
    if (!node.IsScalar()) {
      add(path, node, std::string("expected a ") + describe(st) + ", found " + shape(node));
      return std::nullopt;
    }
    const std::string raw = node.Scalar();
    switch (st.kind) {
      case Kind::secret: {
        auto v = resolve_refs(path, node, raw, true);
        if (!v) return std::nullopt;
        secret_pointers.insert(ptr);
        return json(*v);
      }
      case Kind::string: {
        auto v = resolve_refs(path, node, raw, false);
        if (!v) return std::nullopt;
        return json(*v);
      }
      case Kind::url: {
        auto v = resolve_refs(path, node, raw, false);
        if (!v) return std::nullopt;
        if (!is_http_url(*v)) {
          add(path, node, "not a valid URL: '" + redact(*v) + "'",
              "Write an absolute URL starting with https:// (or http:// for local servers).");
          return std::nullopt;
        }
        if (auto brace = brace_in_origin(*v)) {
          add(path, node,
              "variables may not stand in the scheme, host or port of a URL (a brace at position " +
                  std::to_string(*brace) + " of '" + redact(*v) + "')",
              "Write the origin literally and put variables in the path or query: "
              "https://api.example.com/{path}");
          return std::nullopt;
        }
        return json(*v);
      }
      case Kind::integer: {
        long long v = 0;
        try {
          size_t used = 0;
          v = std::stoll(raw, &used);
          if (used != raw.size()) throw std::invalid_argument("trailing");
        } catch (...) {
          add(path, node, "expected an integer, found '" + raw + "'");
          return std::nullopt;
        }
        if ((st.min && v < *st.min) || (st.max && v > *st.max)) {
          add(path, node,
              "must be between " + num(st.min) + " and " + num(st.max) + ", found " + raw);
          return std::nullopt;
        }
        return json(v);
      }
      case Kind::number: {
        try {
          size_t used = 0;
          double v = std::stod(raw, &used);
          if (used != raw.size()) throw std::invalid_argument("trailing");
          return json(v);
        } catch (...) {
          add(path, node, "expected a number, found '" + raw + "'");
          return std::nullopt;
        }
      }
      case Kind::boolean: {
        if (raw == "true" || raw == "yes" || raw == "on") return json(true);
        if (raw == "false" || raw == "no" || raw == "off") return json(false);
        add(path, node, "expected true or false, found '" + raw + "'");
        return std::nullopt;
      }
      case Kind::duration: {
        auto d = parse_duration(raw);
        if (!d) {
          add(path, node, "not a duration: '" + raw + "'", "Write e.g. 30s, 15m, 2h, 1d or 500ms.");
          return std::nullopt;
        }
        return json(*d);
      }
      case Kind::date: {
        if (!is_date(raw)) {
          add(path, node, "not a date: '" + raw + "'",
              "Write the date as YYYY-MM-DD, e.g. 2027-05-31.");
          return std::nullopt;
        }
        return json(raw);
      }
      case Kind::choice: {
        if (std::find(st.choices.begin(), st.choices.end(), raw) == st.choices.end()) {
          std::string all;
          for (const auto& c : st.choices) all += (all.empty() ? "" : ", ") + c;
          auto near = closest_match(raw, st.choices);
          add(path, node, "'" + raw + "' is not one of: " + all,
              near ? "Did you mean '" + *near + "'?" : std::string());
          return std::nullopt;
        }
        return json(raw);
      }
      default:
        return std::nullopt;
    }
  }

  static json any_value(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        json o = json::object();
        for (const auto& kv : node) o[kv.first.Scalar()] = any_value(kv.second);
        return o;
      }
      case YAML::NodeType::Sequence: {
        json a = json::array();
        for (const auto& v : node) a.push_back(any_value(v));
        return a;
      }
      case YAML::NodeType::Scalar: {
        const std::string& s = node.Scalar();
        if (node.Tag() == "!") return s;  // quoted: always a string
        if (s == "true") return true;
        if (s == "false") return false;
        if (s == "null" || s == "~") return nullptr;
        try {
          size_t used = 0;
          long long i = std::stoll(s, &used);
          if (used == s.size()) return i;
          double d = std::stod(s, &used);
          if (used == s.size()) return d;
        } catch (...) {
        }
        return s;
      }
      default:
        return nullptr;
    }
  }

  std::optional<json> value(const Setting& st, const std::string& path, const std::string& ptr,
                            const YAML::Node& node) {
    switch (st.kind) {
      case Kind::object:
        if (!node.IsMap()) {
          add(path, node, "expected an object (key: value pairs), found " + shape(node));
          return std::nullopt;
        }
        return object(*st.object, path, ptr, node);
      case Kind::list: {
        if (!node.IsSequence()) {
          add(path, node, "expected a list, found " + shape(node));
          return std::nullopt;
        }
        json out = json::array();
        bool ok = true;
        for (size_t i = 0; i < node.size(); ++i) {
          std::string p = path + "[" + std::to_string(i) + "]";
          std::string pp = ptr + "/" + std::to_string(i);
          std::optional<json> item;
          if (st.object) {
            if (!node[i].IsMap()) {
              add(p, node[i], "expected an object, found " + shape(node[i]));
            } else {
              item = object(*st.object, p, pp, node[i]);
            }
          } else {
            Setting is{.name = st.name, .kind = st.item};
            item = scalar(is, p, pp, node[i]);
          }
          if (item)
            out.push_back(*item);
          else
            ok = false;
        }
        if (!ok) return std::nullopt;
        return out;
      }
      case Kind::string_map:
      case Kind::object_map: {
        if (!node.IsMap()) {
          add(path, node, "expected a map (key: value pairs), found " + shape(node));
          return std::nullopt;
        }
        json out = json::object();
        bool ok = true;
        for (const auto& kv : node) {
          std::string key = kv.first.Scalar();
          std::string p = path + "." + key;
          std::string pp = ptr + "/" + pointer_escape(key);
          std::optional<json> v;
          if (st.kind == Kind::object_map) {
            if (kv.second.IsScalar() && st.object->find("default")) {
              // Shorthand: `name: default value`.
              v = json{{"default", kv.second.Scalar()}, {"required", false}, {"raw", false}};
            } else if (kv.second.IsMap()) {
              v = object(*st.object, p, pp, kv.second);
            } else {
              add(p, kv.second,
                  std::string(st.object->find("default") ? "expected an object or a default value"
                                                         : "expected an object") +
                      ", found " + shape(kv.second));
            }
          } else {
            // Header values in an auth `headers` map are credentials.
            Setting ss{.name = key, .kind = st.secret_values ? Kind::secret : Kind::string};
            v = scalar(ss, p, pp, kv.second);
          }
          if (v)
            out[key] = *v;
          else
            ok = false;
        }
        if (!ok) return std::nullopt;
        return out;
      }
      case Kind::string_or_list: {
        if (node.IsScalar()) {
          auto v = resolve_refs(path, node, node.Scalar(), false);
          if (!v) return std::nullopt;
          // "a b" and "a,b" are lists of scopes/columns too.
          json out = json::array();
          std::string cur;
          for (char c : *v) {
            if (c == ' ' || c == ',') {
              if (!cur.empty()) out.push_back(cur);
              cur.clear();
            } else {
              cur += c;
            }
          }
          if (!cur.empty()) out.push_back(cur);
          return out;
        }
        Setting ls{.name = st.name, .kind = Kind::list, .item = Kind::string};
        return value(ls, path, ptr, node);
      }
      case Kind::any:
        return any_value(node);
      default:
        return scalar(st, path, ptr, node);
    }
  }

  std::optional<json> object(const Schema& base, const std::string& path, const std::string& ptr,
                             const YAML::Node& node) {
    const Schema* schema = &base;
    const size_t errors_before = issues.size();
    if (!base.discriminator.empty()) {
      const YAML::Node d = node[base.discriminator];
      const Setting* dst = base.find(base.discriminator);
      std::string p = join(path, base.discriminator);
      if (!d.IsDefined()) {
        std::string all;
        for (const auto& c : dst->choices) all += (all.empty() ? "" : ", ") + c;
        add(p, node, "missing required key '" + base.discriminator + "'",
            "Set it to one of: " + all + ".");
        return std::nullopt;
      }
      auto t = scalar(*dst, p, ptr + "/" + base.discriminator, d);
      if (!t) return std::nullopt;
      schema = base.variant(t->get<std::string>());
    }
    json out = json::object();
    for (const auto& kv : node) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const Setting* st = schema->find(key);
      std::string p = join(path, key);
      if (!st) {
        auto near = closest_match(key, schema->names());
        add(p, kv.first, "unknown key '" + key + "'",
            near ? "Did you mean '" + *near + "'?"
                 : "Allowed keys: " + joined(schema->names()) + ".");
        continue;
      }
      if (kv.second.IsNull()) {
        if (st->required) add(p, kv.second, "must not be empty");
        continue;
      }
      if (auto v = value(*st, p, ptr + "/" + pointer_escape(key), kv.second)) out[key] = *v;
    }
    for (const auto& st : schema->settings) {
      if (out.contains(st.name)) continue;
      if (st.required && !node[st.name].IsDefined()) {
        add(join(path, st.name), node, "missing required key '" + st.name + "'",
            st.description.empty() ? std::string() : st.description + ".");
      } else if (st.default_value) {
        out[st.name] = *st.default_value;
      }
    }
    if (issues.size() == errors_before && schema->check) {
      if (auto problem = schema->check(out)) {
        YAML::Node at = node[problem->first];
        add(join(path, problem->first), at.IsDefined() ? at : node, problem->second);
      }
    }
    if (issues.size() != errors_before) return std::nullopt;
    return out;
  }

 private:
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }
  static std::string num(std::optional<double> v) {
    if (!v) return "?";
    std::ostringstream o;
    o << *v;
    return o.str();
  }
  static std::string describe(const Setting& st) {
    switch (st.kind) {
      case Kind::integer:
        return "integer";
      case Kind::number:
        return "number";
      case Kind::boolean:
        return "boolean";
      case Kind::url:
        return "URL";
      case Kind::duration:
        return "duration such as 30s or 15m";
      case Kind::date:
        return "date (YYYY-MM-DD)";
      default:
        return "string";
    }
  }
  static std::string shape(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "an object";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return "'" + n.Scalar() + "'";
    }
  }
  const ParseOptions& options_;
};

Error invalid(const std::vector<Issue>& issues) {
  std::string all;
  for (const auto& i : issues) all += (all.empty() ? "" : "\n") + i.to_string();
  Error e("config.invalid",
          issues.size() == 1 ? issues[0].to_string()
                             : std::to_string(issues.size()) + " problems:\n" + all,
          issues.size() == 1 ? std::string() : "Fix each key named above.");
  if (issues.size() == 1) {
    e.message = issues[0].path +
                (issues[0].line ? " (line " + std::to_string(issues[0].line) + ")" : "") + ": " +
                issues[0].message;
    e.hint = issues[0].hint;
  }
  e.with("issues", all);
  return e;
}

Result<YAML::Node> parse_yaml(std::string_view text) {
  // Limits, aliases, duplicate keys and encoding first: building nodes from a hostile
  // document could exhaust memory or the stack.
  EXTDATA_TRY(check_document(text));
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& ex) {
    return Error("config.syntax",
                 "line " + std::to_string(ex.mark.line + 1) + ", column " +
                     std::to_string(ex.mark.column + 1) + ": " + ex.msg,
                 "Fix the YAML/JSON syntax at that position (indentation, quotes, brackets).")
        .with("line", std::to_string(ex.mark.line + 1));
  }
}

SourceConfig make_source(json spec, std::set<std::string> secrets) {
  SourceConfig s;
  s.name = spec["name"].get<std::string>();
  s.type = spec["type"].get<std::string>();
  s.spec = std::move(spec);
  s.secret_pointers = std::move(secrets);
  return s;
}

FieldConfig make_field(json spec) {
  FieldConfig f;
  f.name = spec["name"].get<std::string>();
  f.source = spec["source"].get<std::string>();
  f.spec = std::move(spec);
  return f;
}

void check_name(Validator& v, const std::string& path, const YAML::Node& node, const json& obj) {
  if (!obj.contains("name")) return;
  const auto name = obj["name"].get<std::string>();
  if (!is_valid_name(name))
    v.add(path + ".name", node["name"], "'" + name + "' is not a valid name",
          "Use 1-64 letters, digits, '-' or '_'.");
}

TargetConfig make_target(json spec, std::set<std::string> secrets) {
  TargetConfig t;
  t.name = spec["name"].get<std::string>();
  t.type = spec["type"].get<std::string>();
  t.field = spec["field"].get<std::string>();
  t.spec = std::move(spec);
  t.secret_pointers = std::move(secrets);
  return t;
}

// `targets:` — each validated against its type's table; the field must be declared in the
// same document (a target's field is pushed, so it has to exist where the target is applied).
void parse_targets(Validator& v, const YAML::Node& targets, ConfigFile& out) {
  if (!targets.IsDefined() || targets.IsNull()) return;
  if (!targets.IsSequence()) {
    v.add("targets", targets, "expected a list of targets");
    return;
  }
  std::set<std::string> fields, seen;
  for (const auto& f : out.fields) fields.insert(f.name);
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string path = "targets[" + std::to_string(i) + "]";
    if (!targets[i].IsMap()) {
      v.add(path, targets[i], "expected an object");
      continue;
    }
    v.secret_pointers.clear();
    auto obj = v.object(target_schema(), path, "", targets[i]);
    if (!obj) continue;
    check_name(v, path, targets[i], *obj);
    const std::string name = (*obj)["name"], field = (*obj)["field"];
    if (!seen.insert(name).second) {
      v.add(path + ".name", targets[i]["name"], "duplicate target name '" + name + "'");
      continue;
    }
    if (!fields.count(field)) {
      auto near = closest_match(field, std::vector<std::string>(fields.begin(), fields.end()));
      v.add(path + ".field", targets[i]["field"], "no field named '" + field + "' in this file",
            near ? "Did you mean '" + *near + "'?" : "Declare the field under fields: too.");
      continue;
    }
    out.targets.push_back(make_target(std::move(*obj), v.secret_pointers));
  }
}

}  // namespace

Result<TargetConfig> target_from_json(const json& spec) {
  const ParseOptions options{.references = References::literal};
  Validator v(options);
  EXTDATA_ASSIGN_OR_RETURN(YAML::Node node, parse_yaml(spec.dump()));
  auto obj = v.object(target_schema(), "", "", node);
  if (!v.issues.empty() || !obj) return invalid(v.issues);
  return make_target(std::move(*obj), v.secret_pointers);
}

Result<ConfigFile> parse_config(std::string_view text, const ParseOptions& options) {
  EXTDATA_ASSIGN_OR_RETURN(YAML::Node root, parse_yaml(text));
  Validator v(options);
  if (!root.IsMap()) {
    v.add("", root, "the file must be an object with 'sources:' and/or 'fields:'");
    return invalid(v.issues);
  }
  ConfigFile out;
  std::set<std::string> source_names = options.known_sources;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key != "sources" && key != "fields" && key != "targets") {
      auto near = closest_match(key, {"sources", "fields", "targets"});
      v.add(key, kv.first, "unknown key '" + key + "'",
            near ? "Did you mean '" + *near + "'?" : "Allowed keys: sources, fields, targets.");
    }
  }
  const YAML::Node sources = root["sources"];
  if (sources.IsDefined() && !sources.IsNull()) {
    if (!sources.IsSequence()) {
      v.add("sources", sources, "expected a list of sources");
    } else {
      std::map<std::string, int> seen;
      for (size_t i = 0; i < sources.size(); ++i) {
        std::string path = "sources[" + std::to_string(i) + "]";
        if (!sources[i].IsMap()) {
          v.add(path, sources[i], "expected an object");
          continue;
        }
        v.secret_pointers.clear();
        // A source with an error is still declared: fields naming it get no follow-on
        // "no source named" error on top of the source's own.
        if (const YAML::Node name = sources[i]["name"]; name.IsDefined() && name.IsScalar())
          source_names.insert(name.Scalar());
        auto obj = v.object(source_schema(), path, "", sources[i]);
        if (!obj) continue;
        check_name(v, path, sources[i], *obj);
        std::string name = (*obj)["name"];
        if (seen.count(name)) {
          v.add(path + ".name", sources[i]["name"], "duplicate source name '" + name + "'",
                "It is already used by sources[" + std::to_string(seen[name]) + "].");
          continue;
        }
        seen[name] = static_cast<int>(i);
        source_names.insert(name);
        SourceConfig source = make_source(std::move(*obj), v.secret_pointers);
        source.origin = path;
        for (auto it = sources[i].begin(); it != sources[i].end(); ++it)
          source.key_lines[it->first.as<std::string>()] = Validator::line_of(it->second);
        out.sources.push_back(std::move(source));
      }
    }
  }
  const YAML::Node fields = root["fields"];
  if (fields.IsDefined() && !fields.IsNull()) {
    if (!fields.IsSequence()) {
      v.add("fields", fields, "expected a list of fields");
    } else {
      std::map<std::string, int> seen;
      for (size_t i = 0; i < fields.size(); ++i) {
        std::string path = "fields[" + std::to_string(i) + "]";
        if (!fields[i].IsMap()) {
          v.add(path, fields[i], "expected an object");
          continue;
        }
        auto obj = v.object(field_schema(), path, "", fields[i]);
        if (!obj) continue;
        check_name(v, path, fields[i], *obj);
        std::string name = (*obj)["name"], source = (*obj)["source"];
        if (seen.count(name)) {
          v.add(path + ".name", fields[i]["name"], "duplicate field name '" + name + "'");
          continue;
        }
        seen[name] = static_cast<int>(i);
        if (!source_names.count(source)) {
          std::vector<std::string> names(source_names.begin(), source_names.end());
          auto near = closest_match(source, names);
          v.add(path + ".source", fields[i]["source"], "no source named '" + source + "'",
                near ? "Did you mean '" + *near + "'?" : "Define the source under sources: first.");
          continue;
        }
        out.fields.push_back(make_field(std::move(*obj)));
      }
    }
  }
  parse_targets(v, root["targets"], out);
  if (!v.issues.empty()) return invalid(v.issues);
  return out;
}

Result<ConfigFile> load_config_file(const std::string& path, std::set<std::string> known_sources,
                                    const std::string& secrets_dir) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error("config.unreadable", "cannot read config file " + path,
                 "Check the path and that the file is readable.");
  std::stringstream ss;
  ss << in.rdbuf();
  ParseOptions options;
  options.secrets_dir = secrets_dir;
  options.known_sources = std::move(known_sources);
  auto r = parse_config(ss.str(), options);
  if (!r.ok()) {
    Error e = std::move(r).error();
    e.message = path + ": " + e.message;
    return e;
  }
  return r;
}

Result<SourceConfig> parse_source(std::string_view text, const std::string& name) {
  EXTDATA_ASSIGN_OR_RETURN(YAML::Node node, parse_yaml(text));
  if (!node.IsMap())
    return Error("config.invalid", "a source must be a JSON object", "Send {\"type\": ..., ...}.");
  if (node["name"].IsDefined() && node["name"].Scalar() != name)
    return Error("config.invalid",
                 "name '" + node["name"].Scalar() + "' does not match the URL's '" + name + "'",
                 "Leave name out of the body, or make it match.");
  node["name"] = name;
  const ParseOptions options{.references = References::literal};
  Validator v(options);
  auto obj = v.object(source_schema(), "", "", node);
  if (obj) check_name(v, "", node, *obj);
  if (!v.issues.empty()) return invalid(v.issues);
  return make_source(std::move(*obj), v.secret_pointers);
}

Result<FieldConfig> parse_field(std::string_view text, const std::string& name,
                                const std::set<std::string>& known_sources, References references) {
  EXTDATA_ASSIGN_OR_RETURN(YAML::Node node, parse_yaml(text));
  if (!node.IsMap())
    return Error("config.invalid", "a field must be a JSON object", "Send {\"source\": ..., ...}.");
  if (node["name"].IsDefined() && node["name"].Scalar() != name)
    return Error("config.invalid",
                 "name '" + node["name"].Scalar() + "' does not match the URL's '" + name + "'",
                 "Leave name out of the body, or make it match.");
  node["name"] = name;
  const ParseOptions options{.references = references};
  Validator v(options);
  auto obj = v.object(field_schema(), "", "", node);
  if (obj) check_name(v, "", node, *obj);
  if (!v.issues.empty()) return invalid(v.issues);
  std::string source = (*obj)["source"];
  if (!known_sources.count(source)) {
    std::vector<std::string> names(known_sources.begin(), known_sources.end());
    auto near = closest_match(source, names);
    return Error("config.invalid", "source: no source named '" + source + "'",
                 near ? "Did you mean '" + *near + "'?" : "Create the source first.");
  }
  return make_field(std::move(*obj));
}

namespace {

// "{{env.NAME}}" (spaces allowed inside the braces, as custom_headers.cpp reads it).
bool has_env_placeholder(std::string_view text) {
  for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at + 2)) {
    size_t i = at + 2;
    while (i < text.size() && text[i] == ' ') ++i;
    if (text.substr(i).starts_with("env.")) return true;
  }
  return false;
}

// The first key path below `path` whose string value reads the host. Request bodies are
// depth-checked before they are parsed (core/bounded_json.h), so the recursion is bounded.
std::optional<std::string> host_reference_at(const json& value, const std::string& path,
                                             bool header_values) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (next_reference(text, 0) || (header_values && has_env_placeholder(text))) return path;
    return std::nullopt;
  }
  if (!value.is_structured()) return std::nullopt;
  size_t index = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++index) {
    const std::string key = value.is_object() ? it.key() : std::to_string(index);
    const std::string below =
        value.is_object() ? (path.empty() ? key : path + "." + key) : path + "[" + key + "]";
    // Custom header credentials: auth: {type: headers, headers: {Name: "{{env.X}}"}}.
    const bool headers = path == "auth" && key == "headers";
    if (auto found = host_reference_at(*it, below, header_values || headers)) return found;
  }
  return std::nullopt;
}

// "https://API.example.com:443/x/{id}" → "https://api.example.com": what a URL template's
// literal scheme and authority name (the part before the first '/', '?' or '#' after "://").
std::string origin_of(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t end = url.find_first_of("/?#", scheme_end + 3);
  const std::string prefix = url.substr(0, end);
  if (auto parsed = Url::parse(prefix + "/"); parsed.ok()) return parsed->origin();
  std::string lower = prefix;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

void collect_bindings(const Schema& base, const json& object, const std::string& path,
                      std::map<std::string, std::string>& out) {
  auto key_path = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  const Schema* schema = &base;
  if (!base.discriminator.empty()) {
    auto kind = object.find(base.discriminator);
    if (kind == object.end() || !kind->is_string()) return;
    out[key_path(base.discriminator)] = kind->get<std::string>();
    schema = base.variant(kind->get<std::string>());
    if (!schema) return;
  }
  for (const Setting& st : schema->settings) {
    auto it = object.find(st.name);
    if (it == object.end()) continue;
    const std::string p = key_path(st.name);
    if (st.binds_secrets != SecretBinding::none && it->is_string())
      out[p] = st.binds_secrets == SecretBinding::origin ? origin_of(it->get<std::string>())
                                                         : it->get<std::string>();
    if (!st.object) continue;
    if (st.kind == Kind::object && it->is_object()) collect_bindings(*st.object, *it, p, out);
    if (st.kind == Kind::list && it->is_array())
      for (size_t i = 0; i < it->size(); ++i)
        if ((*it)[i].is_object())
          collect_bindings(*st.object, (*it)[i], p + "[" + std::to_string(i) + "]", out);
  }
}

}  // namespace

std::map<std::string, std::string> secret_bindings(const SourceConfig& source) {
  std::map<std::string, std::string> out;
  collect_bindings(source_schema(), source.spec, "", out);
  return out;
}

std::optional<Error> refuse_host_references(const json& document) {
  auto key = host_reference_at(document, "", false);
  if (!key) return std::nullopt;
  return Error("config.host_reference", *key + ": " + kHostReferenceMessage, kHostReferenceHint)
      .with("key", *key);
}

Error locate_source_error(const std::string& file, const SourceConfig& source, Error e) {
  std::string where = source.origin.empty() ? "sources." + source.name : source.origin;
  if (auto key = e.details.find("key"); key != e.details.end() && !key->second.empty()) {
    where += "." + key->second;
    const std::string top = key->second.substr(0, key->second.find_first_of(".["));
    if (auto line = source.key_lines.find(top); line != source.key_lines.end() && line->second > 0)
      where += " (line " + std::to_string(line->second) + ")";
  }
  e.message = file + ": " + where + " of source '" + source.name + "': " + e.message;
  return e;
}

Result<SourceConfig> source_from_json(const json& spec) {
  return parse_source(spec.dump(), spec.value("name", ""));
}

Result<FieldConfig> field_from_json(const json& spec, const std::set<std::string>& known_sources) {
  return parse_field(spec.dump(), spec.value("name", ""), known_sources, References::literal);
}

}  // namespace extdata::config
