#pragma once
// The errors of sql sources, one hint per code, the same for every driver:
//
//   sql.auth_failed        the server refused the user or password
//   sql.unknown_database   the database named in connection does not exist
//   sql.unknown_relation   a table or view in the query does not exist
//   sql.permission_denied  the user may not read a table of the query
//   sql.timeout            the statement (or the connection) took too long
//   sql.read_only          the query tried to write; the session is read-only
//   sql.tls                TLS could not be set up or the certificate was not trusted
//   sql.unreachable        the server could not be reached
//   sql.connection_lost    the connection broke (server restarted or stopped)
//   sql.query_failed       any other error the database reported (its message in details)
//   sql.too_many_rows      more rows than max_records (row_writer.h)
#include <string>

#include "core/error.h"

namespace extdata::sources::sql {

// An error of `code` with the message "<what>: <server message>", the code's hint, and the
// server's message and SQLSTATE (when known) in details.
Error database_error(const std::string& code, const std::string& what,
                     const std::string& server_message, const std::string& sqlstate = {});

// The code for a SQLSTATE (SQL standard classes, as PostgreSQL, MariaDB and ODBC report them);
// "" when the state says nothing specific.
std::string code_for_sqlstate(const std::string& sqlstate);

// The code for a connection failure by its message (libpq and MariaDB report no SQLSTATE for
// most of them); sql.unreachable when nothing matches.
std::string code_for_connect_message(const std::string& message);

}  // namespace extdata::sources::sql
