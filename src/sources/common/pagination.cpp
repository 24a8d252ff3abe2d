#include "sources/common/pagination.h"

#include "core/redact.h"
#include "core/strings.h"
#include "extract/json_text.h"
#include "http/curl_client.h"

namespace extdata::sources {

using nlohmann::json;

namespace {

// The text of a JSONPath's first match: strings as they are, numbers as JSON; null → nullopt.
std::optional<std::string> first_text(const extract::JsonPath& path, simdjson::dom::element root) {
  auto found = path.first(root);
  if (!found || found->is_null()) return std::nullopt;
  std::string text = extract::display_text(*found);
  if (text.empty()) return std::nullopt;
  return text;
}

Result<extract::JsonPath> compile_path(const std::string& text, const std::string& key) {
  auto path = extract::JsonPath::compile(text);
  if (!path.ok())
    return Error("source.jsonpath", "pagination." + key + ": " + path.error().message,
                 path.error().hint)
        .with("key", "pagination." + key);
  return std::move(path).value();
}

}  // namespace

std::optional<std::string> link_header_next(std::string_view value) {
  // Link: <https://a/b?page=2>; rel="next", <...>; rel="last"
  size_t i = 0;
  while (i < value.size()) {
    const size_t open = value.find('<', i);
    if (open == std::string_view::npos) break;
    const size_t close = value.find('>', open);
    if (close == std::string_view::npos) break;
    const std::string_view target = value.substr(open + 1, close - open - 1);
    size_t end = close + 1;
    // Parameters run to the next ',' that is outside quotes.
    bool quoted = false;
    while (end < value.size() && (quoted || value[end] != ',')) {
      if (value[end] == '"') quoted = !quoted;
      ++end;
    }
    const std::string_view params = value.substr(close + 1, end - close - 1);
    size_t p = 0;
    while (p < params.size()) {
      size_t semi = params.find(';', p);
      if (semi == std::string_view::npos) semi = params.size();
      std::string_view param = trim(params.substr(p, semi - p));
      p = semi + 1;
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      if (lower(trim(param.substr(0, eq))) != "rel") continue;
      std::string_view rels = trim(param.substr(eq + 1));
      if (rels.size() >= 2 && rels.front() == '"' && rels.back() == '"')
        rels = rels.substr(1, rels.size() - 2);
      // rel may list several space-separated relation types.
      size_t r = 0;
      while (r < rels.size()) {
        size_t sp = rels.find(' ', r);
        if (sp == std::string_view::npos) sp = rels.size();
        if (lower(rels.substr(r, sp - r)) == "next") return std::string(target);
        r = sp + 1;
      }
    }
    i = end + 1;
  }
  return std::nullopt;
}

std::string resolve_url(std::string_view base, std::string_view ref) {
  if (ref.find("://") != std::string_view::npos) return std::string(ref);
  const size_t scheme = base.find("://");
  const size_t authority_end =
      scheme == std::string_view::npos ? 0 : base.find_first_of("/?#", scheme + 3);
  const std::string_view origin =
      base.substr(0, authority_end == std::string_view::npos ? base.size() : authority_end);
  if (ref.rfind("//", 0) == 0) return std::string(base.substr(0, scheme + 1)) + std::string(ref);
  if (!ref.empty() && ref.front() == '/') return std::string(origin) + std::string(ref);
  std::string_view path = base.substr(0, base.find_first_of("?#", origin.size()));
  if (!ref.empty() && ref.front() == '?') return std::string(path) + std::string(ref);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash < origin.size())
    return std::string(origin) + "/" + std::string(ref);
  return std::string(path.substr(0, slash + 1)) + std::string(ref);
}

std::string with_query_param(std::string_view url, std::string_view name, std::string_view value) {
  const size_t hash = url.find('#');
  std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : url.substr(hash);
  std::string_view rest = url.substr(0, hash);
  const size_t q = rest.find('?');
  std::string path(rest.substr(0, q));
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  const std::string encoded_name = http::url_encode(name);
  std::string out_query;
  size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(i, amp - i);
    const std::string_view key = pair.substr(0, pair.find('='));
    if (!pair.empty() && key != encoded_name && key != name) {
      if (!out_query.empty()) out_query += '&';
      out_query += pair;
    }
    i = amp + 1;
    if (amp == query.size()) break;
  }
  if (!out_query.empty()) out_query += '&';
  out_query += encoded_name + "=" + http::url_encode(value);
  return path + "?" + out_query + std::string(fragment);
}

Result<Paginator> Paginator::compile(const json& spec) {
  Paginator p;
  if (spec.is_null() || !spec.is_object()) return p;
  const std::string type = spec.value("type", std::string("none"));
  p.max_pages_ = spec.value("max_pages", 1000);
  p.max_records_ = spec.value("max_records", static_cast<size_t>(1000000));
  if (spec.contains("limit")) p.limit_ = spec["limit"].get<long long>();
  p.limit_param_ = spec.value("limit_param", std::string());
  if (type == "none") {
    p.type_ = Type::none;
  } else if (type == "next_link") {
    p.type_ = Type::next_link;
    EXTDATA_ASSIGN_OR_RETURN(
        p.next_path_,
        compile_path(spec.value("next", std::string("$['@odata.nextLink']")), "next"));
  } else if (type == "link_header") {
    p.type_ = Type::link_header;
  } else if (type == "offset" || type == "page") {
    p.type_ = type == "offset" ? Type::offset : Type::page;
    p.param_ = spec.value("param", type == "offset" ? std::string("offset") : std::string("page"));
    p.start_ = spec.value("start", type == "offset" ? 0LL : 1LL);
    if (type == "offset" && !p.limit_) p.limit_ = 100;
    if (type == "offset" && p.limit_param_.empty()) p.limit_param_ = "limit";
  } else if (type == "cursor") {
    p.type_ = Type::cursor;
    if (!spec.contains("cursor")) {
      return Error("source.pagination",
                   "pagination.cursor: cursor pagination needs the JSONPath of the cursor",
                   "e.g. cursor: $.meta.next_cursor")
          .with("key", "pagination.cursor");
    }
    EXTDATA_ASSIGN_OR_RETURN(p.cursor_path_,
                             compile_path(spec["cursor"].get<std::string>(), "cursor"));
    p.param_ = spec.value("param", std::string("cursor"));
  } else {
    return Error("source.pagination", "pagination.type: unknown type '" + type + "'")
        .with("key", "pagination.type");
  }
  return p;
}

void Paginator::prepare_first(http::Request& request, State& state) const {
  if (type_ != Type::offset && type_ != Type::page) return;
  state.position = start_;
  request.url = with_query_param(request.url, param_, std::to_string(start_));
  if (!limit_param_.empty() && limit_)
    request.url = with_query_param(request.url, limit_param_, std::to_string(*limit_));
}

std::optional<http::Request> Paginator::next(const http::Request& current,
                                             const http::Response& response,
                                             const simdjson::dom::element* body,
                                             size_t page_records, State& state,
                                             std::vector<std::string>& warnings) const {
  if (type_ == Type::none) return std::nullopt;
  http::Request next = current;
  bool more = false;
  switch (type_) {
    case Type::none:
      return std::nullopt;
    case Type::next_link:
    case Type::link_header: {
      std::optional<std::string> link;
      if (type_ == Type::next_link) {
        if (body) link = first_text(*next_path_, *body);
      } else if (auto header = response.header("Link")) {
        link = link_header_next(*header);
      }
      if (!link) return std::nullopt;
      const std::string url = resolve_url(current.url, *link);
      state.seen.insert(current.url);
      if (!state.seen.insert(url).second) {
        warnings.push_back("pagination stopped: the next link repeats an earlier page (" +
                           redact(url) + ")");
        return std::nullopt;
      }
      next.url = url;
      more = true;
      break;
    }
    case Type::offset:
    case Type::page: {
      if (page_records == 0) return std::nullopt;
      if (limit_ && static_cast<long long>(page_records) < *limit_) return std::nullopt;
      state.position += type_ == Type::offset ? static_cast<long long>(page_records) : 1;
      next.url = with_query_param(current.url, param_, std::to_string(state.position));
      more = true;
      break;
    }
    case Type::cursor: {
      if (!body) return std::nullopt;
      auto cursor = first_text(*cursor_path_, *body);
      if (!cursor) return std::nullopt;
      if (!state.seen.insert(*cursor).second) {
        warnings.push_back("pagination stopped: the cursor repeats an earlier page's cursor");
        return std::nullopt;
      }
      next.url = with_query_param(current.url, param_, *cursor);
      more = true;
      break;
    }
  }
  if (more && state.pages >= max_pages_) {
    warnings.push_back("pagination stopped at max_pages (" + std::to_string(max_pages_) +
                       "); more pages exist");
    return std::nullopt;
  }
  if (more && state.records >= max_records_) {
    warnings.push_back("pagination stopped at max_records (" + std::to_string(max_records_) +
                       "); more records exist");
    return std::nullopt;
  }
  return next;
}

}  // namespace extdata::sources
