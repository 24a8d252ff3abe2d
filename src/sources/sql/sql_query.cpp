#include "sources/sql/sql_query.h"

#include <map>

namespace extdata::sources::sql {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Error query_error(std::string code, std::string message, size_t position, std::string hint) {
  Error e(std::move(code), "query: " + std::move(message) + " at " + std::to_string(position + 1),
          std::move(hint));
  e.with("key", "query").with("position", std::to_string(position + 1));
  return e;
}

Error unterminated(const char* what, size_t start) {
  return query_error("sql.bad_query", std::string("unterminated ") + what, start,
                     "close it; the query is read as one statement");
}

class Tokenizer {
 public:
  Tokenizer(std::string_view q, Dialect d) : q_(q), d_(d) {}

  Result<ParsedQuery> run() {
    while (i_ < q_.size()) {
      const char c = q_[i_];
      const char next = i_ + 1 < q_.size() ? q_[i_ + 1] : '\0';
      if (c == '\'') {
        EXTDATA_TRY(quoted('\'', backslash_escapes() || escape_string_prefix(), "string literal"));
      } else if (c == '"') {
        EXTDATA_TRY(quoted('"', d_ == Dialect::mysql, "quoted identifier"));
      } else if (c == '`' && d_ != Dialect::postgres) {
        EXTDATA_TRY(quoted('`', false, "quoted identifier"));
      } else if (c == '[' && (d_ == Dialect::sqlite || d_ == Dialect::odbc)) {
        EXTDATA_TRY(bracketed());
      } else if (c == '-' && next == '-') {
        line_comment();
      } else if (c == '#' && d_ == Dialect::mysql) {
        line_comment();
      } else if (c == '/' && next == '*') {
        EXTDATA_TRY(block_comment());
      } else if (c == '$' && d_ == Dialect::postgres) {
        EXTDATA_TRY(dollar());
      } else if (c == ':') {
        colon();
      } else if (c == '?') {
        return query_error("sql.bad_query", "'?' placeholder", i_,
                           "name parameters instead (WHERE id = :id) and declare them under "
                           "variables; in PostgreSQL use the ?| / ?& operators' function forms");
      } else if (c == ';') {
        EXTDATA_TRY(semicolon());
      } else {
        out_.text += c;
        ++i_;
      }
    }
    return std::move(out_);
  }

 private:
  bool backslash_escapes() const { return d_ == Dialect::mysql; }

  // E'…' / e'…' in PostgreSQL: a string with backslash escapes.
  bool escape_string_prefix() const {
    if (d_ != Dialect::postgres || i_ == 0) return false;
    const char p = q_[i_ - 1];
    if (p != 'E' && p != 'e') return false;
    return i_ < 2 || !is_name_char(q_[i_ - 2]);
  }

  // A literal or identifier closed by `quote`, doubled quotes inside (and backslash escapes
  // when `backslashes`), copied as written.
  Status quoted(char quote, bool backslashes, const char* what) {
    const size_t start = i_;
    size_t j = i_ + 1;
    for (;;) {
      if (j >= q_.size()) return unterminated(what, start);
      if (backslashes && q_[j] == '\\') {
        j += 2;
        continue;
      }
      if (q_[j] == quote) {
        if (j + 1 < q_.size() && q_[j + 1] == quote) {
          j += 2;
          continue;
        }
        break;
      }
      ++j;
    }
    copy_to(j + 1);
    return ok_status();
  }

  Status bracketed() {
    const size_t end = q_.find(']', i_ + 1);
    if (end == std::string_view::npos) return unterminated("[identifier]", i_);
    copy_to(end + 1);
    return ok_status();
  }

  void line_comment() {
    size_t end = q_.find('\n', i_);
    copy_to(end == std::string_view::npos ? q_.size() : end);
  }

  // PostgreSQL nests block comments; the others do not.
  Status block_comment() {
    const size_t start = i_;
    size_t j = i_ + 2;
    int depth = 1;
    while (depth > 0) {
      if (j + 1 >= q_.size()) return unterminated("comment", start);
      if (q_[j] == '*' && q_[j + 1] == '/') {
        --depth;
        j += 2;
      } else if (d_ == Dialect::postgres && q_[j] == '/' && q_[j + 1] == '*') {
        ++depth;
        j += 2;
      } else {
        ++j;
      }
    }
    copy_to(j);
    return ok_status();
  }

  // $tag$ … $tag$ (tag empty or a name) — a string; $1 — a hand-written placeholder;
  // anything else (a$b identifiers) — as written.
  Status dollar() {
    if (i_ > 0 && is_name_char(q_[i_ - 1])) {
      out_.text += q_[i_++];
      return ok_status();
    }
    size_t j = i_ + 1;
    if (j < q_.size() && q_[j] >= '0' && q_[j] <= '9')
      return query_error("sql.bad_query", "positional placeholder '$" + std::string(1, q_[j]) + "'",
                         i_, "name parameters instead (WHERE id = :id) and declare them");
    while (j < q_.size() && is_name_char(q_[j])) ++j;
    if (j >= q_.size() || q_[j] != '$') {
      out_.text += q_[i_++];
      return ok_status();
    }
    const std::string_view tag = q_.substr(i_, j - i_ + 1);
    const size_t end = q_.find(tag, j + 1);
    if (end == std::string_view::npos) return unterminated("dollar-quoted string", i_);
    copy_to(end + tag.size());
    return ok_status();
  }

  // `::` (a cast) and `:=` stay; `:name` becomes a placeholder.
  void colon() {
    const char next = i_ + 1 < q_.size() ? q_[i_ + 1] : '\0';
    if (next == ':') {
      copy_to(i_ + 2);
      return;
    }
    if (!is_name_start(next)) {
      out_.text += q_[i_++];
      return;
    }
    size_t j = i_ + 1;
    while (j < q_.size() && (is_name_start(q_[j]) || (q_[j] >= '0' && q_[j] <= '9'))) ++j;
    std::string name(q_.substr(i_ + 1, j - i_ - 1));
    i_ = j;
    out_.names.insert(name);
    if (d_ == Dialect::postgres) {
      auto [it, added] = numbers_.emplace(name, numbers_.size() + 1);
      if (added) out_.parameters.push_back(name);
      out_.text += "$" + std::to_string(it->second);
    } else {
      out_.parameters.push_back(std::move(name));
      out_.text += '?';
    }
  }

  // A trailing `;` (then only blanks and comments) is dropped; anything after it is a second
  // statement.
  Status semicolon() {
    const size_t at = i_;
    size_t j = i_ + 1;
    while (j < q_.size()) {
      if (is_space(q_[j])) {
        ++j;
      } else if (q_.compare(j, 2, "--") == 0 || (d_ == Dialect::mysql && q_[j] == '#')) {
        const size_t nl = q_.find('\n', j);
        j = nl == std::string_view::npos ? q_.size() : nl;
      } else if (q_.compare(j, 2, "/*") == 0) {
        const size_t close = q_.find("*/", j + 2);
        if (close == std::string_view::npos) return unterminated("comment", j);
        j = close + 2;
      } else {
        return query_error("sql.multiple_statements", "a second statement after ';'", at,
                           "a source runs one read-only statement; remove everything after the "
                           "first ';'");
      }
    }
    i_ = q_.size();
    return ok_status();
  }

  void copy_to(size_t end) {
    out_.text.append(q_.substr(i_, end - i_));
    i_ = end;
  }

  std::string_view q_;
  Dialect d_;
  size_t i_ = 0;
  ParsedQuery out_;
  std::map<std::string, size_t> numbers_;  // PostgreSQL: name → $n
};

}  // namespace

Result<ParsedQuery> parse_query(std::string_view query, Dialect dialect) {
  return Tokenizer(query, dialect).run();
}

namespace {

bool needs_quotes(std::string_view name, Dialect dialect) {
  // Reserved in at least one dialect and likely as a table or column name.
  static const std::set<std::string, std::less<>> reserved{
      "all",  "and",   "as",     "by",     "case", "check", "column", "default", "desc",
      "end",  "from",  "group",  "having", "in",   "index", "key",    "limit",   "not",
      "null", "order", "select", "table",  "to",   "user",  "values", "where",   "with"};
  if (name.empty() || !is_name_start(name[0])) return true;
  std::string lower;
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80 || !is_name_char(c)) return true;
    if (dialect == Dialect::postgres && c >= 'A' && c <= 'Z') return true;  // folds to lower
    lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return reserved.count(lower) > 0;
}

}  // namespace

std::string quote_identifier(std::string_view name, Dialect dialect) {
  if (!needs_quotes(name, dialect)) return std::string(name);
  const char q = dialect == Dialect::mysql ? '`' : '"';
  std::string out(1, q);
  for (char c : name) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

}  // namespace extdata::sources::sql
