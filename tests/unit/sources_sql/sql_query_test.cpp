// The query tokenizer of sql sources (src/sources/sql/sql_query.h): :name parameters become the
// driver's placeholders, and nothing inside literals, quoted identifiers or comments does.
#include "sources/sql/sql_query.h"

#include <gtest/gtest.h>

namespace extdata::sources::sql {
namespace {

ParsedQuery parsed(std::string_view q, Dialect d) {
  auto r = parse_query(q, d);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ParsedQuery{};
}

std::string error_code(std::string_view q, Dialect d) {
  auto r = parse_query(q, d);
  return r.ok() ? "ok" : r.error().code;
}

TEST(SqlQuery, NamedParametersBecomeNumberedPlaceholdersForPostgresOnePerName) {
  auto q = parsed("SELECT * FROM t WHERE a = :a AND (b = :b OR :a IS NULL)", Dialect::postgres);
  EXPECT_EQ(q.text, "SELECT * FROM t WHERE a = $1 AND (b = $2 OR $1 IS NULL)");
  EXPECT_EQ(q.parameters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.names, (std::set<std::string>{"a", "b"}));
}

TEST(SqlQuery, NamedParametersBecomeQuestionMarksOnePerUseForTheOthers) {
  for (Dialect d : {Dialect::mysql, Dialect::sqlite, Dialect::odbc}) {
    auto q = parsed("SELECT * FROM t WHERE a = :a AND (b = :b OR :a IS NULL)", d);
    EXPECT_EQ(q.text, "SELECT * FROM t WHERE a = ? AND (b = ? OR ? IS NULL)");
    EXPECT_EQ(q.parameters, (std::vector<std::string>{"a", "b", "a"}));
  }
}

TEST(SqlQuery, ColonsInsideLiteralsIdentifiersAndCommentsAreNotParameters) {
  auto q = parsed(
      "SELECT ':x', \"col:y\", 'it''s :z' -- :c1\n"
      "/* :c2 /* nested :c3 */ still :c4 */ FROM t WHERE a = :a",
      Dialect::postgres);
  EXPECT_EQ(q.parameters, (std::vector<std::string>{"a"}));
  EXPECT_EQ(q.text,
            "SELECT ':x', \"col:y\", 'it''s :z' -- :c1\n"
            "/* :c2 /* nested :c3 */ still :c4 */ FROM t WHERE a = $1");
}

TEST(SqlQuery, PostgresCastsDollarQuotesAndEscapeStringsAreSkipped) {
  auto q = parsed("SELECT :a::text, $$ :no $$, $tag$ ' :no $tag$, E'\\' :no', a$b FROM t",
                  Dialect::postgres);
  EXPECT_EQ(q.parameters, (std::vector<std::string>{"a"}));
  EXPECT_EQ(q.text, "SELECT $1::text, $$ :no $$, $tag$ ' :no $tag$, E'\\' :no', a$b FROM t");
}

TEST(SqlQuery, StandardStringsInPostgresDoNotTakeBackslashEscapes) {
  // 'a\' is a complete literal in PostgreSQL (standard_conforming_strings): :p is a parameter.
  auto q = parsed("SELECT 'a\\', :p", Dialect::postgres);
  EXPECT_EQ(q.parameters, (std::vector<std::string>{"p"}));
}

TEST(SqlQuery, MysqlBackslashEscapesBackticksAndHashComments) {
  auto q =
      parsed("SELECT 'a\\' :no', `x:y`, \"q\\\" :no\" # :c\nFROM t WHERE a = :a", Dialect::mysql);
  EXPECT_EQ(q.parameters, (std::vector<std::string>{"a"}));
}

TEST(SqlQuery, BracketedIdentifiersForSqliteAndOdbc) {
  EXPECT_EQ(parsed("SELECT [a:b] FROM t WHERE x = :x", Dialect::odbc).parameters,
            (std::vector<std::string>{"x"}));
  EXPECT_EQ(parsed("SELECT [a:b] FROM t WHERE x = :x", Dialect::sqlite).parameters,
            (std::vector<std::string>{"x"}));
}

TEST(SqlQuery, ATrailingSemicolonIsDroppedAndASecondStatementRefused) {
  EXPECT_EQ(parsed("SELECT 1; -- done\n", Dialect::postgres).text, "SELECT 1");
  EXPECT_EQ(error_code("SELECT 1; DROP TABLE t", Dialect::postgres), "sql.multiple_statements");
  EXPECT_EQ(error_code("SELECT 1;/* c */SELECT 2", Dialect::sqlite), "sql.multiple_statements");
  // A ';' inside a literal or comment is not a separator.
  EXPECT_EQ(error_code("SELECT ';' -- ; DROP\n", Dialect::mysql), "ok");
}

TEST(SqlQuery, UnterminatedLiteralsAndHandWrittenPlaceholdersAreRefusedWithPosition) {
  auto r = parse_query("SELECT 'abc", Dialect::postgres);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "sql.bad_query");
  EXPECT_EQ(r.error().details.at("position"), "8");
  EXPECT_EQ(error_code("SELECT \"abc", Dialect::postgres), "sql.bad_query");
  EXPECT_EQ(error_code("SELECT 1 /* open", Dialect::postgres), "sql.bad_query");
  EXPECT_EQ(error_code("SELECT $x$ open", Dialect::postgres), "sql.bad_query");
  EXPECT_EQ(error_code("SELECT * FROM t WHERE a = ?", Dialect::mysql), "sql.bad_query");
  EXPECT_EQ(error_code("SELECT * FROM t WHERE a = $1", Dialect::postgres), "sql.bad_query");
}

TEST(SqlQuery, AColonNotFollowedByANameStays) {
  auto q = parsed("SELECT a[1:2], x := 3, ':' FROM t", Dialect::postgres);
  EXPECT_TRUE(q.parameters.empty());
  EXPECT_EQ(q.text, "SELECT a[1:2], x := 3, ':' FROM t");
}

TEST(SqlQuery, WizardNamesStayBareOnlyWhereTheDialectReadsThemAsWritten) {
  EXPECT_EQ(quote_identifier("customers", Dialect::postgres), "customers");
  EXPECT_EQ(quote_identifier("last_name2", Dialect::mysql), "last_name2");
  // PostgreSQL folds unquoted names to lower case; the others compare them as written.
  EXPECT_EQ(quote_identifier("Kunden", Dialect::postgres), "\"Kunden\"");
  EXPECT_EQ(quote_identifier("Kunden", Dialect::sqlite), "Kunden");
  EXPECT_EQ(quote_identifier("Straße", Dialect::odbc), "\"Straße\"");
  EXPECT_EQ(quote_identifier("last order", Dialect::mysql), "`last order`");
  EXPECT_EQ(quote_identifier("order", Dialect::postgres), "\"order\"");
  EXPECT_EQ(quote_identifier("User", Dialect::sqlite), "\"User\"");
  EXPECT_EQ(quote_identifier("2024", Dialect::sqlite), "\"2024\"");
  EXPECT_EQ(quote_identifier("", Dialect::postgres), "\"\"");
}

TEST(SqlQuery, WizardNamesWithTheirOwnQuoteCannotLeaveTheIdentifier) {
  const std::string pg = quote_identifier("a\" OR 1=1 --", Dialect::postgres);
  EXPECT_EQ(pg, "\"a\"\" OR 1=1 --\"");
  const std::string my = quote_identifier("a` ; DROP TABLE t; --", Dialect::mysql);
  EXPECT_EQ(my, "`a`` ; DROP TABLE t; --`");
  // Read back by the tokenizer, each is one identifier: no second statement, no parameter.
  auto q = parse_query("SELECT " + pg + " FROM t", Dialect::postgres);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->parameters.empty());
  EXPECT_TRUE(parse_query("SELECT " + my + " FROM t", Dialect::mysql).ok());
}

}  // namespace
}  // namespace extdata::sources::sql
