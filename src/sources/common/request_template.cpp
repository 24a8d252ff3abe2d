#include "sources/common/request_template.h"

#include <algorithm>

#include "core/url_template.h"
#include "extract/json_text.h"
#include "http/curl_client.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

const char* kHex = "0123456789ABCDEF";

void percent_encode_byte(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

bool is_reserved(unsigned char c) {
  return std::string_view(":/?#[]@!$&'()*+,;=").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// RFC 6570 reserved expansion: reserved characters and existing %XX triplets pass through.
std::string reserved_encode(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool triplet = c == '%' && i + 2 < value.size() &&
                         std::isxdigit(static_cast<unsigned char>(value[i + 1])) &&
                         std::isxdigit(static_cast<unsigned char>(value[i + 2]));
    if (is_unreserved(c) || is_reserved(c) || triplet) {
      out += static_cast<char>(c);
    } else {
      percent_encode_byte(out, c);
    }
  }
  return out;
}

// Splits a URL template at its first '?' outside placeholders.
size_t query_start(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        ++i;
        continue;
      }
      const size_t close = text.find('}', i);
      if (close == std::string_view::npos) return std::string_view::npos;
      i = close;
    } else if (text[i] == '?') {
      return i;
    }
  }
  return std::string_view::npos;
}

Error template_error(const std::string& key, const Error& inner, size_t offset) {
  std::string message = inner.message;
  size_t position = offset;
  if (auto it = inner.details.find("position"); it != inner.details.end()) {
    position += std::stoul(it->second);
    const std::string prefix = "template error at " + it->second;
    if (message.rfind(prefix, 0) == 0)
      message = "template error at " + std::to_string(position) + message.substr(prefix.size());
  }
  Error e("source.template", key + ": " + message, inner.hint);
  e.with("key", key).with("position", std::to_string(position));
  return e;
}

// Looks placeholders up in the variable values, encoding each for its placement.
class EncodingContext : public extract::TemplateContext {
 public:
  EncodingContext(const ValueMap& values, const VariableDecls& decls, Placement placement)
      : values_(values), decls_(decls), placement_(placement) {}

  std::optional<std::string> lookup(std::string_view placeholder) const override {
    const bool plus = !placeholder.empty() && placeholder.front() == '+';
    const std::string_view name = plus ? placeholder.substr(1) : placeholder;
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    Placement placement = placement_;
    const bool in_url = placement == Placement::path || placement == Placement::query;
    if (in_url) {
      const auto decl = decls_.find(name);
      if (plus || (decl != decls_.end() && decl->second.raw)) placement = Placement::reserved;
    }
    return encode_for(placement, it->second);
  }

 private:
  const ValueMap& values_;
  const VariableDecls& decls_;
  Placement placement_;
};

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

std::string pointer_key(const json::json_pointer& pointer) {
  std::string key = "body";
  std::string text = pointer.to_string();
  for (char& c : text)
    if (c == '/') c = '.';
  return key + text;
}

void collect_strings(const json& node, const json::json_pointer& at,
                     std::vector<std::pair<json::json_pointer, std::string>>& out) {
  if (node.is_string()) {
    out.emplace_back(at, node.get<std::string>());
  } else if (node.is_object()) {
    for (const auto& [k, v] : node.items()) collect_strings(v, at / k, out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) collect_strings(node[i], at / i, out);
  }
}

}  // namespace

std::string encode_for(Placement placement, std::string_view value) {
  switch (placement) {
    case Placement::path:
    case Placement::query:
    case Placement::form:
      return http::url_encode(value);
    case Placement::reserved:
      return reserved_encode(value);
    case Placement::json_string: {
      std::string quoted;
      extract::append_json_string(quoted, value);
      return quoted.substr(1, quoted.size() - 2);
    }
    case Placement::header:
    case Placement::verbatim:
      return std::string(value);
  }
  return std::string(value);
}

std::string variable_of(std::string_view placeholder) {
  if (!placeholder.empty() && placeholder.front() == '+') placeholder.remove_prefix(1);
  return std::string(placeholder);
}

std::set<std::string> names_needing_value(std::string_view text) {
  std::set<std::string> needed;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      ++i;
      continue;
    }
    if (text[i] != '{') continue;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      ++i;
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string_view::npos) break;
    std::string_view inside = text.substr(i + 1, close - i - 1);
    i = close;
    if (inside.find('|') != std::string_view::npos) continue;
    while (!inside.empty() && std::isspace(static_cast<unsigned char>(inside.front())))
      inside.remove_prefix(1);
    while (!inside.empty() && std::isspace(static_cast<unsigned char>(inside.back())))
      inside.remove_suffix(1);
    needed.insert(variable_of(inside));
  }
  return needed;
}

Result<RequestTemplate::Piece> RequestTemplate::compile_piece(std::string key,
                                                              std::string_view text,
                                                              Placement placement,
                                                              size_t position_offset) {
  auto compiled = extract::Template::compile(text);
  if (!compiled.ok()) return template_error(key, compiled.error(), position_offset);
  Piece piece{std::move(key), std::move(compiled).value(), placement, names_needing_value(text)};
  return piece;
}

Result<RequestTemplate> RequestTemplate::compile(const json& spec, const std::string& key_prefix) {
  RequestTemplate t;
  t.key_prefix_ = key_prefix;
  t.method_ = spec.value("method", std::string("GET"));

  const std::string url = spec.value("url", std::string());
  if (auto brace = brace_in_origin(url)) {
    const std::string key = key_prefix + "url";
    return Error("source.template",
                 key + ": variables may not stand in the scheme, host or port (position " +
                     std::to_string(*brace) + ")",
                 "write the origin literally and put variables in the path or query: "
                 "https://api.example.com/{path}")
        .with("key", key)
        .with("position", std::to_string(*brace));
  }
  t.path_start_ = std::min(
      url.find_first_of("/?#", url.find("://") == std::string::npos ? 0 : url.find("://") + 3),
      url.size());
  t.literal_dot_segment_ = has_dot_segment(std::string_view(url).substr(t.path_start_));
  const size_t q = query_start(url);
  EXTDATA_ASSIGN_OR_RETURN(
      t.url_path_,
      compile_piece(key_prefix + "url", std::string_view(url).substr(0, q), Placement::path));
  if (q != std::string::npos) {
    EXTDATA_ASSIGN_OR_RETURN(t.url_query_,
                             compile_piece(key_prefix + "url", std::string_view(url).substr(q + 1),
                                           Placement::query, q + 1));
  }

  if (spec.contains("headers")) {
    for (const auto& [name, value] : spec["headers"].items()) {
      const std::string key = key_prefix + "headers." + name;
      if (name.empty() || has_line_break(name) || name.find(':') != std::string::npos) {
        return Error("source.header", key + ": not a valid header name",
                     "header names are single words such as X-Api-Version")
            .with("key", key);
      }
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      EXTDATA_ASSIGN_OR_RETURN(Piece piece, compile_piece(key, text, Placement::header));
      t.headers_.emplace_back(name, std::move(piece));
    }
  }

  if (spec.contains("body") && !spec["body"].is_null()) {
    const json& body = spec["body"];
    const std::string format = spec.value("body_format", std::string("json"));
    const std::string key = key_prefix + "body";
    if (body.is_string()) {
      const Placement placement = format == "json"   ? Placement::json_string
                                  : format == "form" ? Placement::form
                                                     : Placement::verbatim;
      t.body_kind_ = format == "json"   ? BodyKind::json_text
                     : format == "form" ? BodyKind::form_text
                                        : BodyKind::raw_text;
      EXTDATA_ASSIGN_OR_RETURN(t.body_text_,
                               compile_piece(key, body.get<std::string>(), placement));
    } else if (format == "json") {
      t.body_kind_ = BodyKind::json_object;
      t.body_json_ = body;
      std::vector<std::pair<json::json_pointer, std::string>> strings;
      collect_strings(body, json::json_pointer(), strings);
      for (auto& [pointer, text] : strings) {
        EXTDATA_ASSIGN_OR_RETURN(Piece piece,
                                 compile_piece(pointer_key(pointer), text, Placement::verbatim));
        piece.key = key_prefix + piece.key;
        t.body_strings_.emplace_back(pointer, std::move(piece));
      }
    } else if (format == "form" && body.is_object()) {
      t.body_kind_ = BodyKind::form_object;
      for (const auto& [name, value] : body.items()) {
        if (value.is_object() || value.is_array()) {
          return Error("source.body", key + "." + name + ": form fields must be text or numbers",
                       "use body_format: json for nested bodies")
              .with("key", key + "." + name);
        }
        const std::string text = value.is_string() ? value.get<std::string>()
                                 : value.is_null() ? ""
                                                   : value.dump();
        EXTDATA_ASSIGN_OR_RETURN(Piece piece,
                                 compile_piece(key + "." + name, text, Placement::verbatim));
        t.form_fields_.emplace_back(name, std::move(piece));
      }
    } else {
      return Error("source.body", key + ": body_format " + format + " needs the body as text",
                   "write the body as a string, or use body_format: json")
          .with("key", key);
    }
  }
  return t;
}

std::set<std::string> RequestTemplate::variables() const {
  std::set<std::string> out;
  auto add = [&](const Piece& p) {
    for (const auto& n : p.tmpl.referenced_names()) out.insert(variable_of(n));
  };
  if (url_path_) add(*url_path_);
  if (url_query_) add(*url_query_);
  for (const auto& [n, p] : headers_) add(p);
  for (const auto& [ptr, p] : body_strings_) add(p);
  for (const auto& [n, p] : form_fields_) add(p);
  if (body_text_) add(*body_text_);
  return out;
}

Result<std::string> RequestTemplate::render_piece(const Piece& piece, const ValueMap& values,
                                                  const VariableDecls& decls) const {
  for (const auto& name : piece.needed) {
    if (values.find(name) == values.end()) {
      Error e("source.variable_missing",
              "missing required variable '" + name + "' (used in " + piece.key + ")",
              "pass it (--var " + name +
                  "=VALUE, a field's context or the API's variables), or declare a default: "
                  "variables: {" +
                  name + ": {default: ...}}");
      e.with("variable", name).with("key", piece.key);
      return e;
    }
  }
  std::string text = piece.tmpl.render(EncodingContext(values, decls, piece.placement));
  if (piece.placement == Placement::header && has_line_break(text)) {
    return Error("source.header", piece.key + ": the value contains a line break",
                 "header values cannot span lines; check the variables used in this header")
        .with("key", piece.key);
  }
  return text;
}

Result<http::Request> RequestTemplate::render(const ValueMap& values,
                                              const VariableDecls& decls) const {
  http::Request request;
  request.method = method_;
  request.retryable =
      method_ == "GET" || method_ == "HEAD" || method_ == "PUT" || method_ == "DELETE";
  EXTDATA_ASSIGN_OR_RETURN(request.url, render_piece(*url_path_, values, decls));
  // The origin is literal (compile checks it); a value must not climb out of its path either.
  if (!literal_dot_segment_ &&
      has_dot_segment(
          std::string_view(request.url).substr(std::min(path_start_, request.url.size()))))
    return Error("source.variable_value",
                 url_path_->key + ": a variable's value makes a '.' or '..' path segment",
                 "values in a URL path cannot move up or across the path; check the value passed")
        .with("key", url_path_->key);
  if (url_query_) {
    EXTDATA_ASSIGN_OR_RETURN(std::string query, render_piece(*url_query_, values, decls));
    request.url += '?';
    request.url += query;
  }
  for (const auto& [name, piece] : headers_) {
    EXTDATA_ASSIGN_OR_RETURN(std::string value, render_piece(piece, values, decls));
    request.headers.emplace_back(name, std::move(value));
  }
  const char* content_type = nullptr;
  switch (body_kind_) {
    case BodyKind::none:
      break;
    case BodyKind::json_object: {
      json body = body_json_;
      for (const auto& [pointer, piece] : body_strings_) {
        EXTDATA_ASSIGN_OR_RETURN(std::string value, render_piece(piece, values, decls));
        body[pointer] = value;
      }
      request.body = body.dump();
      content_type = "application/json";
      break;
    }
    case BodyKind::form_object: {
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& [name, piece] : form_fields_) {
        EXTDATA_ASSIGN_OR_RETURN(std::string value, render_piece(piece, values, decls));
        fields.emplace_back(name, std::move(value));
      }
      request.body = http::form_encode(fields);
      content_type = "application/x-www-form-urlencoded";
      break;
    }
    case BodyKind::json_text:
    case BodyKind::form_text:
    case BodyKind::raw_text: {
      EXTDATA_ASSIGN_OR_RETURN(request.body, render_piece(*body_text_, values, decls));
      if (body_kind_ == BodyKind::json_text) content_type = "application/json";
      if (body_kind_ == BodyKind::form_text) content_type = "application/x-www-form-urlencoded";
      break;
    }
  }
  if (content_type && !http::find_header(request.headers, "Content-Type")) {
    request.headers.emplace_back("Content-Type", content_type);
  }
  return request;
}

}  // namespace extdata::sources
