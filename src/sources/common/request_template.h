#pragma once
// Request templates of REST-like sources: a URL, headers and a body with {variables},
// compiled once, rendered per fetch with each value encoded for where it stands:
//
//   URL path      path-segment encoding ('/' too):   /users/{id}      a/b → a%2Fb
//   URL query     query-value encoding:              ?q={q}           a b&c → a%20b%26c
//   {+name}       reserved expansion (RFC 6570 '+'): /sites/{+path}   sites/Sales stays
//   form body     application/x-www-form-urlencoded
//   JSON body     substituted inside string values of the body object (JSON escaping)
//   headers       as they are; CR or LF is an error
//
// A variable declared `raw: true` is inserted with reserved expansion everywhere in the URL.
//
// The origin stays literal: a placeholder in the scheme, userinfo, host or port is a compile
// error ("source.template"), and a rendered path in which a value makes a "." or ".." segment
// (also %2e-encoded) is refused ("source.variable_value"), so no value can send the request
// elsewhere: '/', '@', '\' and '%' are encoded in path segments, and a {+reserved} value can
// only add path, query or fragment after the literal origin.
// Placeholder defaults ({name|fallback}) are inserted as written.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "extract/template.h"
#include "http/http_client.h"

namespace extdata::sources {

using ValueMap = std::map<std::string, std::string, std::less<>>;

// verbatim: inserted as is (JSON object bodies are escaped when the object is serialised).
enum class Placement { path, query, form, json_string, header, reserved, verbatim };

// Encodes one substituted value for its placement.
std::string encode_for(Placement placement, std::string_view value);

// Placeholder names in a compiled template's text that have no {name|default} in at least one
// use (so a value is needed). '+' prefixes are removed.
std::set<std::string> names_needing_value(std::string_view template_text);

// The variable name a placeholder refers to ("+path" → "path").
std::string variable_of(std::string_view placeholder);

struct VariableDecl {
  std::optional<std::string> default_value;
  bool required = false;
  bool raw = false;
};
using VariableDecls = std::map<std::string, VariableDecl, std::less<>>;

// One templated HTTP request (a step or the final request).
class RequestTemplate {
 public:
  // `spec` is an object with url, method, headers, body, body_format; `key_prefix` names it in
  // errors ("steps[0]." or ""). Errors: "source.template" naming the key and position.
  static Result<RequestTemplate> compile(const nlohmann::json& spec, const std::string& key_prefix);

  // Renders with `values`; a variable referenced without a value and without a placeholder
  // default → "source.variable_missing" naming it and where it is used.
  Result<http::Request> render(const ValueMap& values, const VariableDecls& decls) const;

  // Every variable referenced (without '+').
  std::set<std::string> variables() const;

 private:
  struct Piece {
    std::string key;  // "url", "headers.X-Tenant", "body.filter.name"
    extract::Template tmpl;
    Placement placement;
    std::set<std::string> needed;  // variables used without a placeholder default
  };
  static Result<Piece> compile_piece(std::string key, std::string_view text, Placement placement,
                                     size_t position_offset = 0);
  Result<std::string> render_piece(const Piece& piece, const ValueMap& values,
                                   const VariableDecls& decls) const;

  std::string key_prefix_;
  std::string method_ = "GET";
  size_t path_start_ = 0;             // where the path starts in the URL (after the origin)
  bool literal_dot_segment_ = false;  // the template itself has a "." or ".." segment
  std::optional<Piece> url_path_;
  std::optional<Piece> url_query_;  // the text after the first '?'
  std::vector<std::pair<std::string, Piece>> headers_;
  enum class BodyKind {
    none,
    json_object,
    json_text,
    form_object,
    form_text,
    raw_text
  } body_kind_ = BodyKind::none;
  nlohmann::json body_json_;  // json_object: the body as written
  std::vector<std::pair<nlohmann::json::json_pointer, Piece>> body_strings_;  // json_object
  std::vector<std::pair<std::string, Piece>> form_fields_;                    // form_object
  std::optional<Piece> body_text_;                                            // *_text
};

}  // namespace extdata::sources
