#pragma once
// The `query` of an sql source, read once when the source is built: named parameters `:name`
// found by a small tokenizer that skips what is not SQL code (string literals, quoted
// identifiers, comments, PostgreSQL dollar quotes and `::` casts) and replaced by the
// driver's own placeholders (`$1` for PostgreSQL, `?` for the others), so values are bound by
// the driver and never spliced into the text.
//
//   auto q = parse_query("SELECT * FROM t WHERE a = :a AND b = ':b'", Dialect::postgres);
//   q->text        == "SELECT * FROM t WHERE a = $1 AND b = ':b'"
//   q->parameters  == {"a"}            // one entry per placeholder, in order
//
// Refused ("invalid_input" errors naming the position): a second statement after `;`, an
// unterminated literal, identifier or comment, and placeholders written by hand (`?`, `$1`),
// which would bind nothing.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace extdata::sources::sql {

enum class Dialect {
  postgres,  // $1, $2 … (a name used twice is one placeholder); E'..' and $tag$..$tag$ strings
  mysql,     // ?; backslash escapes in '..' and "..", `identifiers`, # comments
  sqlite,    // ?; [identifiers] and `identifiers`
  odbc,      // ?; [identifiers] (SQL Server) and standard quoting
};

struct ParsedQuery {
  std::string text;                     // with the driver's placeholders
  std::vector<std::string> parameters;  // the variable bound to each placeholder, in order
  std::set<std::string> names;          // every parameter name used
};

Result<ParsedQuery> parse_query(std::string_view query, Dialect dialect);

// `name` as an identifier in `dialect`: left bare when it is a plain word that needs no quotes
// (lower case for PostgreSQL, which folds; not a common reserved word), otherwise quoted with
// the dialect's quote (` for MySQL, " elsewhere), embedded quotes doubled. For the query the
// wizard writes from a chosen table and columns.
std::string quote_identifier(std::string_view name, Dialect dialect);

}  // namespace extdata::sources::sql
