#include "core/error_codes.h"

#include <algorithm>
#include <array>

namespace extdata {

namespace {

using C = ErrorCategory;

constexpr std::array kCategories = {
    CategoryInfo{C::invalid_input, "invalid_input", 400, 1,
                 "The caller sent something malformed or invalid: a config document, a query "
                 "parameter, a JSONPath, a missing variable."},
    CategoryInfo{C::usage, "usage", 400, 2, "The command line is used wrongly."},
    CategoryInfo{C::not_found, "not_found", 404, 1,
                 "The named source, field, token or page does not exist."},
    CategoryInfo{C::method_not_allowed, "method_not_allowed", 405, 1,
                 "The path exists, but not with this HTTP method."},
    CategoryInfo{C::conflict, "conflict", 409, 1,
                 "The request clashes with what is stored, e.g. deleting a source a field uses."},
    CategoryInfo{C::version_mismatch, "version_mismatch", 412, 1,
                 "The stored source or field is not the version the request expects: it exists "
                 "although If-None-Match: * said create, or it changed since the If-Match "
                 "version was read."},
    CategoryInfo{C::too_large, "too_large", 413, 1, "The request body is over the server's limit."},
    CategoryInfo{C::precondition, "precondition", 500, 1,
                 "The server is not set up for this (master key, data directory, listen "
                 "address): an operator has to act."},
    CategoryInfo{C::unauthorized, "unauthorized", 401, 1, "The caller sent no valid API token."},
    CategoryInfo{C::forbidden, "forbidden", 403, 1,
                 "The caller's API token does not have the role this needs."},
    CategoryInfo{C::upstream, "upstream", 502, 1,
                 "An upstream (token endpoint, Graph, a REST API) refused the request or answered "
                 "something extdata cannot use."},
    CategoryInfo{C::upstream_unavailable, "upstream_unavailable", 502, 1,
                 "An upstream could not be reached, broke off, or kept throttling: try again "
                 "later."},
    CategoryInfo{C::timeout, "timeout", 504, 1, "An upstream did not answer in time."},
    CategoryInfo{C::rate_limited, "rate_limited", 429, 1,
                 "Too many new upstream fetches for one source in a short time: try again after "
                 "the Retry-After seconds."},
    CategoryInfo{C::internal, "internal", 500, 1,
                 "A failure inside extdata (or an unregistered code): look at the server log."},
};

// Sorted by code (a test checks it): find_error_code searches it by bisection.
constexpr std::array kCodes = {
    ErrorCodeInfo{"api.bad_json", C::invalid_input,
                  "The request body is not the JSON object the endpoint expects."},
    ErrorCodeInfo{"api.bad_precondition", C::invalid_input,
                  "An If-Match or If-None-Match header is malformed or not supported there."},
    ErrorCodeInfo{"api.forbidden", C::forbidden, "The endpoint needs an admin token."},
    ErrorCodeInfo{"api.internal", C::internal, "A handler failed unexpectedly."},
    ErrorCodeInfo{"api.json_too_deep", C::invalid_input,
                  "A request body is nested deeper than --max-json-depth."},
    ErrorCodeInfo{"api.method", C::method_not_allowed, "The endpoint does not take this method."},
    ErrorCodeInfo{"api.not_found", C::not_found, "No such API endpoint or page."},
    ErrorCodeInfo{"api.unauthenticated", C::unauthorized,
                  "No API token, a malformed Authorization header, or an unknown token."},
    ErrorCodeInfo{"auth.access_denied", C::upstream,
                  "The user declined the sign-in or consent (OAuth2 access_denied): connect "
                  "again and approve."},
    ErrorCodeInfo{"auth.assertion_failed", C::internal,
                  "The client assertion (a signed JWT) could not be signed."},
    ErrorCodeInfo{"auth.assertion_time_invalid", C::upstream,
                  "Entra ID: the client assertion is outside its validity (clock skew?)."},
    ErrorCodeInfo{"auth.authorization_failed", C::upstream,
                  "The provider's sign-in ended with an error callback or without a code: the "
                  "upstream error says why; connect again."},
    ErrorCodeInfo{"auth.bad_certificate", C::invalid_input,
                  "The client certificate is not a readable PEM X.509 certificate."},
    ErrorCodeInfo{"auth.bad_header", C::invalid_input,
                  "A header name or value in the auth settings is not allowed."},
    ErrorCodeInfo{"auth.bad_private_key", C::invalid_input,
                  "The private key of the client certificate cannot be read."},
    ErrorCodeInfo{"auth.bad_secret", C::invalid_input,
                  "The client secret starts or ends with white space."},
    ErrorCodeInfo{"auth.bad_template", C::invalid_input,
                  "A {{...}} placeholder in a custom header is malformed or unknown."},
    ErrorCodeInfo{"auth.bad_token", C::invalid_input, "The bearer token contains white space."},
    ErrorCodeInfo{"auth.bad_token_url", C::invalid_input, "token_url is not a valid URL."},
    ErrorCodeInfo{"auth.bad_username", C::invalid_input, "A Basic username contains ':'."},
    ErrorCodeInfo{"auth.certificate_key_mismatch", C::invalid_input,
                  "The certificate and the private key do not belong together."},
    ErrorCodeInfo{"auth.certificate_not_registered", C::upstream,
                  "Entra ID: the certificate is not registered on the application."},
    ErrorCodeInfo{"auth.conflicting_keys", C::invalid_input,
                  "Both client_secret and client_certificate are given."},
    ErrorCodeInfo{"auth.device_code_expired", C::timeout,
                  "The device code expired before the user signed in: run `extdata auth "
                  "connect` again."},
    ErrorCodeInfo{"auth.encrypted_key", C::invalid_input,
                  "The private key is encrypted with a passphrase."},
    ErrorCodeInfo{"auth.grant_not_saved", C::internal,
                  "A new or rotated refresh token could not be written to the store, so it was "
                  "not used: check the data directory."},
    ErrorCodeInfo{"auth.insecure_token_url", C::invalid_input, "token_url does not use https."},
    ErrorCodeInfo{"auth.internal", C::internal, "The token request failed inside extdata."},
    ErrorCodeInfo{"auth.invalid_client", C::upstream,
                  "The token endpoint did not accept the client (OAuth2 invalid_client)."},
    ErrorCodeInfo{"auth.invalid_grant", C::upstream,
                  "The token endpoint rejected the grant (OAuth2 invalid_grant)."},
    ErrorCodeInfo{"auth.invalid_request", C::upstream,
                  "The token endpoint called the request invalid (OAuth2 invalid_request)."},
    ErrorCodeInfo{"auth.invalid_scope", C::upstream,
                  "The scope is rejected: by the token endpoint, or (as invalid input) by the "
                  "config check."},
    ErrorCodeInfo{
        "auth.invalid_secret", C::upstream,
        "Entra ID rejected the client secret (a wrong or deleted value, or the secret ID pasted)."},
    ErrorCodeInfo{"auth.invalid_target", C::upstream,
                  "The token endpoint rejected the requested resource or audience."},
    ErrorCodeInfo{"auth.invalid_tenant", C::upstream,
                  "The tenant is neither a GUID nor a domain (from Entra ID, or as invalid input "
                  "from the config check)."},
    ErrorCodeInfo{"auth.missing_credential", C::upstream,
                  "Entra ID: the token request carried no secret and no assertion."},
    ErrorCodeInfo{"auth.missing_env", C::invalid_input,
                  "An ${env:NAME} used in a custom header is not set."},
    ErrorCodeInfo{"auth.missing_key", C::invalid_input,
                  "The client certificate or its private key is empty or missing."},
    ErrorCodeInfo{"auth.missing_parameter", C::upstream,
                  "Entra ID: the token request lacks a required parameter."},
    ErrorCodeInfo{"auth.no_refresh_token", C::upstream,
                  "The provider issued no refresh token (offline access not granted): add "
                  "offline_access to scope (or access_type=offline) and connect again."},
    ErrorCodeInfo{
        "auth.no_token", C::internal,
        "A credential was asked for an access token it does not have (not an OAuth2 credential)."},
    ErrorCodeInfo{"auth.nonce_mismatch", C::upstream,
                  "The ID token's nonce is not the sign-in's: the answer was refused; connect "
                  "again."},
    ErrorCodeInfo{"auth.not_connected", C::conflict,
                  "Nobody has signed in for this user-grant source yet: run `extdata auth "
                  "connect NAME` or use Connect in the UI."},
    ErrorCodeInfo{"auth.not_pem", C::invalid_input, "A certificate or key file is not PEM."},
    ErrorCodeInfo{"auth.reconnect_needed", C::upstream,
                  "The provider refused the source's refresh token (revoked, expired or "
                  "replayed): connect again; fields serve their last records meanwhile."},
    ErrorCodeInfo{"auth.refresh_busy", C::upstream_unavailable,
                  "Another process held the source's grant for a refresh for too long: try "
                  "again."},
    ErrorCodeInfo{"auth.reserved_parameter", C::invalid_input,
                  "extra_params names a parameter extdata sets itself."},
    ErrorCodeInfo{"auth.secret_expired", C::upstream, "Entra ID: the client secret has expired."},
    ErrorCodeInfo{"auth.tenant_required", C::upstream,
                  "Client credentials need a tenant, not /common or /organizations (from Entra "
                  "ID, or as invalid input from the config check)."},
    ErrorCodeInfo{"auth.token_endpoint_unreachable", C::upstream_unavailable,
                  "The token endpoint could not be reached."},
    ErrorCodeInfo{"auth.token_request_failed", C::upstream,
                  "The token endpoint refused the request for another reason."},
    ErrorCodeInfo{"auth.token_response_invalid", C::upstream,
                  "The token endpoint's answer is not a usable token response."},
    ErrorCodeInfo{"auth.unauthorized_client", C::upstream,
                  "The client may not use the client-credentials grant."},
    ErrorCodeInfo{"auth.unknown_client", C::upstream,
                  "Entra ID: no application with this client ID in the tenant."},
    ErrorCodeInfo{"auth.unknown_state", C::invalid_input,
                  "A sign-in callback carries a state extdata did not issue, or one already "
                  "used or expired: start Connect again."},
    ErrorCodeInfo{"auth.unknown_tenant", C::upstream, "Entra ID: the tenant was not found."},
    ErrorCodeInfo{"auth.unreadable_file", C::invalid_input,
                  "A certificate or key file cannot be read."},
    ErrorCodeInfo{"auth.unsupported_grant_type", C::upstream,
                  "The token endpoint does not support the client-credentials grant."},
    ErrorCodeInfo{"auth.unsupported_key", C::invalid_input, "The private key is not an RSA key."},
    ErrorCodeInfo{"auth.wrong_grant", C::invalid_input,
                  "The operation needs another grant (Connect is for user grants; the device "
                  "flow for grant: device_code)."},
    ErrorCodeInfo{
        "cache.rate_limited", C::rate_limited,
        "A source fetched its budget of new keys this minute (--max-new-keys-per-minute)."},
    ErrorCodeInfo{"cache.unavailable", C::upstream_unavailable,
                  "No records could be fetched or loaded for this request; retry."},
    ErrorCodeInfo{"cli.bad_var", C::invalid_input, "A --var option is not name=value."},
    ErrorCodeInfo{"cli.file", C::invalid_input, "An input file cannot be read."},
    ErrorCodeInfo{"cli.usage", C::usage, "Options that cannot be combined or a malformed option."},
    ErrorCodeInfo{"config.bad_date", C::invalid_input, "A date setting is not YYYY-MM-DD."},
    ErrorCodeInfo{"config.bad_utf8", C::invalid_input,
                  "A config document holds invalid UTF-8 (the line is named)."},
    ErrorCodeInfo{"config.bad_value", C::invalid_input, "A setting has a value it cannot take."},
    ErrorCodeInfo{"config.duplicate_key", C::invalid_input,
                  "A config document gives a key twice in one object."},
    ErrorCodeInfo{"config.host_reference", C::invalid_input,
                  "A document sent through the API uses ${env:}, ${file:} or {{env.}}: only "
                  "operator documents applied from the CLI may read the server's environment "
                  "and files."},
    ErrorCodeInfo{"config.invalid", C::invalid_input,
                  "A config document has problems; details.issues lists each with its key path."},
    ErrorCodeInfo{"config.missing_key", C::invalid_input, "A required setting is missing."},
    ErrorCodeInfo{"config.multiple_documents", C::invalid_input,
                  "A config file holds more than one YAML document."},
    ErrorCodeInfo{"config.secret_rebound", C::invalid_input,
                  "A stored secret was kept ({\"set\": true}) while a setting that decides "
                  "where it is sent changed: enter the secret again."},
    ErrorCodeInfo{"config.self_alias", C::invalid_input,
                  "A YAML alias refers to the node that contains it."},
    ErrorCodeInfo{"config.syntax", C::invalid_input, "The YAML or JSON of a config is malformed."},
    ErrorCodeInfo{"config.too_deep", C::invalid_input,
                  "A config document is nested deeper than the limit."},
    ErrorCodeInfo{"config.too_large", C::invalid_input,
                  "A config document expands (through aliases) beyond the node limit."},
    ErrorCodeInfo{"config.too_many_aliases", C::invalid_input,
                  "A config document uses more aliases than the limit."},
    ErrorCodeInfo{"config.unreadable", C::invalid_input, "A config file cannot be read."},
    ErrorCodeInfo{"config.wrong_type", C::invalid_input, "A setting has the wrong type."},
    ErrorCodeInfo{"csv.header", C::upstream,
                  "CSV data has no header row or a duplicate column name."},
    ErrorCodeInfo{"csv.limit", C::upstream, "A CSV row has more fields than allowed."},
    ErrorCodeInfo{"csv.options", C::invalid_input, "The CSV delimiter is not supported."},
    ErrorCodeInfo{"csv.ragged", C::upstream, "A CSV row has a different number of fields."},
    ErrorCodeInfo{"csv.syntax", C::upstream, "CSV data is malformed (quotes)."},
    ErrorCodeInfo{"csv.utf8", C::upstream, "CSV data is not valid UTF-8."},
    ErrorCodeInfo{"extract.columns", C::upstream,
                  "A page of records has other columns than the first page."},
    ErrorCodeInfo{"extract.depth", C::upstream, "A JSON document is nested too deeply."},
    ErrorCodeInfo{"extract.json", C::upstream, "A response (or input) is not valid JSON."},
    ErrorCodeInfo{"extract.memory", C::upstream, "A page is too large to parse in memory."},
    ErrorCodeInfo{"extract.snapshot", C::internal, "A stored record snapshot is malformed."},
    ErrorCodeInfo{"extract.too_large", C::upstream,
                  "A page has too many distinct strings or values to keep (split it)."},
    ErrorCodeInfo{"field.array_too_large", C::invalid_input,
                  "The flat options array (format=array) would be over "
                  "--max-options-array-bytes: narrow it with q or limit."},
    ErrorCodeInfo{"field.bad_context", C::invalid_input,
                  "A context value is missing, too long, not text or not UTF-8."},
    ErrorCodeInfo{"field.bad_context_rule", C::invalid_input,
                  "A field's context: declaration is invalid (a pattern that does not compile)."},
    ErrorCodeInfo{"field.bad_filter", C::invalid_input, "A field's filter is not a JSONPath."},
    ErrorCodeInfo{"field.bad_format", C::invalid_input,
                  "The format parameter of /options is neither absent nor 'array'."},
    ErrorCodeInfo{"field.bad_key", C::invalid_input, "The key parameter of /value is missing."},
    ErrorCodeInfo{"field.bad_limit", C::invalid_input, "limit is not a whole number in 1..1000."},
    ErrorCodeInfo{"field.bad_offset", C::invalid_input,
                  "offset is not a whole number or is negative."},
    ErrorCodeInfo{"field.bad_query", C::invalid_input, "q is too long or not UTF-8."},
    ErrorCodeInfo{"field.bad_template", C::invalid_input,
                  "A field's value, label or variable template is malformed."},
    ErrorCodeInfo{"field.context_rejected", C::invalid_input,
                  "A context value does not match the field's declared pattern or values."},
    ErrorCodeInfo{"field.context_too_long", C::invalid_input,
                  "A context value is longer than the field's max_length or "
                  "--max-context-length."},
    ErrorCodeInfo{"field.filter_failed", C::internal,
                  "A field's filter could not be evaluated over the records."},
    ErrorCodeInfo{"field.not_found", C::not_found, "No field with this name."},
    ErrorCodeInfo{"field.table_image", C::internal,
                  "A stored option table (saved beside a snapshot) is corrupt, of another format "
                  "version or built from other records; it is rebuilt, never served."},
    ErrorCodeInfo{"field.too_many_records", C::upstream,
                  "The source returned more records than a field can map."},
    ErrorCodeInfo{"field.undeclared_context", C::invalid_input,
                  "The request sends context keys the field does not declare."},
    ErrorCodeInfo{"file.bad_root", C::usage,
                  "A --files-root / EXTDATA_FILES_ROOT entry is not an existing absolute "
                  "directory."},
    ErrorCodeInfo{"file.changing", C::upstream_unavailable,
                  "A file kept changing while it was read; the records read before are served."},
    ErrorCodeInfo{"file.empty", C::upstream,
                  "A file source's file is empty (a file being rewritten in place looks so)."},
    ErrorCodeInfo{"file.no_root", C::invalid_input,
                  "A file source names a path, but the operator allows no files root."},
    ErrorCodeInfo{"file.not_found", C::upstream, "The file a file source names does not exist."},
    ErrorCodeInfo{"file.not_regular", C::upstream,
                  "A file source's path is a directory or device, not a regular file."},
    ErrorCodeInfo{"file.open", C::upstream, "A file source's file cannot be opened."},
    ErrorCodeInfo{"file.outside_root", C::invalid_input,
                  "A file source's path (or a symbolic link on it) leads outside the files roots."},
    ErrorCodeInfo{"file.path", C::invalid_input, "A file source's path is empty or malformed."},
    ErrorCodeInfo{"file.permission", C::upstream,
                  "extdata may not read the file a file source names."},
    ErrorCodeInfo{"file.read", C::upstream, "Reading a file source's file failed."},
    ErrorCodeInfo{"file.too_large", C::upstream, "A file source's file is over the size limit."},
    ErrorCodeInfo{"file.url", C::invalid_input, "A file source's url is not an http(s) URL."},
    ErrorCodeInfo{"graphsim.admin", C::invalid_input, "graphsim: a bad /_graphsim admin request."},
    ErrorCodeInfo{"graphsim.certificate", C::invalid_input,
                  "graphsim: a certificate in the fixture is unusable."},
    ErrorCodeInfo{"graphsim.filter", C::invalid_input, "graphsim: an OData $filter it rejects."},
    ErrorCodeInfo{"graphsim.fixture", C::invalid_input, "graphsim: the fixture file is invalid."},
    ErrorCodeInfo{"graphsim.generate", C::invalid_input,
                  "graphsim: a generate rule names no single list."},
    ErrorCodeInfo{"graphsim.keygen", C::internal, "graphsim: the signing key cannot be made."},
    ErrorCodeInfo{"http.bad_url", C::upstream, "A source URL is not usable."},
    ErrorCodeInfo{"http.cancelled", C::upstream_unavailable,
                  "An upstream request was cancelled because extdata is stopping."},
    ErrorCodeInfo{"http.connect", C::upstream_unavailable, "The upstream could not be reached."},
    ErrorCodeInfo{"http.internal", C::internal, "libcurl could not be set up."},
    ErrorCodeInfo{"http.redirect", C::upstream,
                  "Too many redirects, a redirect to a scheme that is not followed, or one to "
                  "another origin that the source does not follow."},
    ErrorCodeInfo{"http.timeout", C::timeout, "The upstream did not answer in time."},
    ErrorCodeInfo{"http.tls", C::upstream, "The TLS handshake with the upstream failed."},
    ErrorCodeInfo{"http.too_large", C::upstream, "An upstream response is over the size limit."},
    ErrorCodeInfo{"http.transfer", C::upstream_unavailable,
                  "The connection broke off during the transfer."},
    ErrorCodeInfo{"iregexp.syntax", C::invalid_input,
                  "A regular expression in match() or search() is malformed."},
    ErrorCodeInfo{
        "iregexp.too_costly", C::invalid_input,
        "A regular expression would take more matching steps than the limit allows on this text."},
    ErrorCodeInfo{"iregexp.too_large", C::invalid_input,
                  "A regular expression in match() or search() expands too far."},
    ErrorCodeInfo{"jsonpath.syntax", C::invalid_input, "A JSONPath is malformed."},
    ErrorCodeInfo{"jsonpath.too_long", C::invalid_input, "A JSONPath is over the length limit."},
    ErrorCodeInfo{"jsonpath.too_many_nodes", C::invalid_input,
                  "A JSONPath selects or visits more nodes than the limit."},
    ErrorCodeInfo{"jsonpath.type", C::invalid_input, "A JSONPath breaks RFC 9535's type rules."},
    ErrorCodeInfo{"jwt.malformed", C::upstream, "A token is not a readable JWT."},
    ErrorCodeInfo{"jwt.sign_failed", C::internal, "A JWT could not be signed."},
    ErrorCodeInfo{"network.bad_allow_entry", C::usage,
                  "An --allow-host / EXTDATA_ALLOW_HOSTS entry is not a host, *.domain, "
                  "host:port, IP address or CIDR network."},
    ErrorCodeInfo{"network.blocked", C::forbidden,
                  "The network policy refuses the address a request would connect to (loopback, "
                  "private, link-local, extdata's own ...); the operator allows hosts with "
                  "--allow-host."},
    ErrorCodeInfo{"request.bad_target", C::invalid_input,
                  "The request target does not start with / or contains a NUL."},
    ErrorCodeInfo{"request.malformed", C::invalid_input,
                  "The bytes received are not a valid HTTP/1.1 request (bad header line, method, "
                  "version or a head over 64 KiB)."},
    ErrorCodeInfo{"request.too_large", C::too_large, "The request body is over the limit."},
    ErrorCodeInfo{"search.too_many_records", C::upstream,
                  "Too many records to build a search index."},
    ErrorCodeInfo{"search.too_much_text", C::upstream,
                  "The records' search texts are too long to index."},
    ErrorCodeInfo{"server.bad_listen", C::invalid_input, "The listen address is malformed."},
    ErrorCodeInfo{"server.bind", C::precondition, "The listen address cannot be bound."},
    ErrorCodeInfo{"server.tls", C::invalid_input,
                  "The TLS certificate or key of the server cannot be loaded."},
    ErrorCodeInfo{"settings.file", C::invalid_input,
                  "The operator settings file (EXTDATA_SETTINGS_FILE) cannot be read or has an "
                  "invalid line."},
    ErrorCodeInfo{"sharepoint.bad_authority", C::invalid_input,
                  "authority is not the identity platform's origin."},
    ErrorCodeInfo{"sharepoint.bad_graph_url", C::invalid_input,
                  "graph is not an https Microsoft Graph base URL."},
    ErrorCodeInfo{"sharepoint.bad_page", C::upstream,
                  "A Graph page is cut short or not Graph JSON."},
    ErrorCodeInfo{"sharepoint.bad_request", C::upstream, "Microsoft Graph rejected the request."},
    ErrorCodeInfo{"sharepoint.bad_select", C::invalid_input,
                  "select names something that is not an internal column name."},
    ErrorCodeInfo{"sharepoint.bad_site_url", C::invalid_input,
                  "site is not a SharePoint site address."},
    ErrorCodeInfo{"sharepoint.consent_missing", C::upstream,
                  "The token carries no application permission: admin consent is missing."},
    ErrorCodeInfo{"sharepoint.filter_not_indexed", C::upstream,
                  "SharePoint refused a filter on a column that is not indexed."},
    ErrorCodeInfo{"sharepoint.foreign_next_link", C::upstream,
                  "Graph's next link points to another origin; it is not followed."},
    ErrorCodeInfo{"sharepoint.list_not_found", C::upstream, "The list is not on the site."},
    ErrorCodeInfo{"sharepoint.not_sharepoint", C::invalid_input,
                  "The source is not a sharepoint-list source."},
    ErrorCodeInfo{"sharepoint.permission_missing", C::upstream,
                  "The app lacks Sites.Read.All (or Sites.Selected access to the site)."},
    ErrorCodeInfo{"sharepoint.resync_required", C::upstream,
                  "Graph no longer accepts the stored delta link (410 resyncRequired); the list "
                  "is read in full again."},
    ErrorCodeInfo{"sharepoint.site_not_found", C::upstream, "The SharePoint site was not found."},
    ErrorCodeInfo{"sharepoint.throttled", C::upstream_unavailable,
                  "Microsoft Graph kept throttling the requests."},
    ErrorCodeInfo{"sharepoint.unauthorized", C::upstream,
                  "Microsoft Graph refused the access token even after a fresh one."},
    ErrorCodeInfo{"sharepoint.upstream", C::upstream, "Microsoft Graph answered another error."},
    ErrorCodeInfo{"source.body", C::invalid_input, "A request body setting is malformed."},
    ErrorCodeInfo{"source.busy", C::upstream_unavailable,
                  "The source already runs as many upstream fetches as source_max_fetches "
                  "allows and no slot freed in time."},
    ErrorCodeInfo{"source.delimiter", C::invalid_input, "delimiter is not a CSV delimiter."},
    ErrorCodeInfo{"source.extract", C::upstream,
                  "A step's extract does not fit the response (or, as invalid input, the step's "
                  "format)."},
    ErrorCodeInfo{"source.format", C::upstream,
                  "A response is not valid in the step's format (JSON, XML, CSV)."},
    ErrorCodeInfo{"source.header", C::invalid_input,
                  "A header name is invalid, or a header value contains a line break."},
    ErrorCodeInfo{"source.http", C::internal, "The source has no HTTP client."},
    ErrorCodeInfo{"source.http_status", C::upstream,
                  "The upstream answered an HTTP error status (details.http_status)."},
    ErrorCodeInfo{"source.jsonpath", C::invalid_input,
                  "A JSONPath setting of a source is invalid."},
    ErrorCodeInfo{"source.not_found", C::not_found, "No source with this name."},
    ErrorCodeInfo{"source.pagination", C::invalid_input, "The pagination settings are invalid."},
    ErrorCodeInfo{"source.template", C::invalid_input,
                  "A URL, header or body template is malformed."},
    ErrorCodeInfo{"source.unknown_type", C::invalid_input, "The source type is not known."},
    ErrorCodeInfo{"source.variable_missing", C::invalid_input,
                  "A required variable of the source was not given (the message names it)."},
    ErrorCodeInfo{"source.variable_value", C::invalid_input,
                  "A variable's value would make a '.' or '..' segment in a URL path."},
    ErrorCodeInfo{"source.xpath", C::invalid_input, "An XPath setting of a source is invalid."},
    ErrorCodeInfo{"sql.auth_failed", C::upstream,
                  "The database refused the user or password of an sql source."},
    ErrorCodeInfo{"sql.bad_connection", C::invalid_input,
                  "connection (or path) of an sql source cannot be read or sets what it may not."},
    ErrorCodeInfo{"sql.bad_query", C::invalid_input,
                  "The query of an sql source has an unterminated literal or comment, or a "
                  "hand-written ? / $1 placeholder."},
    ErrorCodeInfo{"sql.bad_table", C::invalid_input,
                  "The table asked for in the sql explorer is missing or not one line of text."},
    ErrorCodeInfo{"sql.connection_lost", C::upstream_unavailable,
                  "The database closed the connection (restarted or stopped)."},
    ErrorCodeInfo{"sql.multiple_statements", C::invalid_input,
                  "The query of an sql source holds more than one statement."},
    ErrorCodeInfo{"sql.not_sql", C::invalid_input, "The source is not an sql source."},
    ErrorCodeInfo{"sql.password_in_url", C::invalid_input,
                  "connection contains the password; it goes in password (a secret)."},
    ErrorCodeInfo{"sql.permission_denied", C::upstream,
                  "The database user may not read a table of the query."},
    ErrorCodeInfo{"sql.query_failed", C::upstream,
                  "The database refused the query (its message is in details)."},
    ErrorCodeInfo{"sql.read_only", C::upstream,
                  "The query tried to write; sql sources run in a read-only session."},
    ErrorCodeInfo{"sql.timeout", C::timeout,
                  "Connecting or the statement took longer than connect_timeout / "
                  "statement_timeout."},
    ErrorCodeInfo{"sql.tls", C::upstream,
                  "TLS to the database failed (sslmode, ca_bundle, certificate name)."},
    ErrorCodeInfo{"sql.too_many_rows", C::upstream,
                  "The query returned more rows than max_records (never cut silently)."},
    ErrorCodeInfo{"sql.undeclared_parameter", C::invalid_input,
                  "The query uses a :name parameter that variables does not declare."},
    ErrorCodeInfo{"sql.unknown_database", C::upstream,
                  "The database named in connection (or the SQLite file) does not exist."},
    ErrorCodeInfo{"sql.unknown_driver", C::invalid_input, "driver is not a known driver."},
    ErrorCodeInfo{"sql.unknown_relation", C::upstream,
                  "A table or view of the query does not exist."},
    ErrorCodeInfo{"sql.unreachable", C::upstream_unavailable,
                  "The database server could not be reached."},
    ErrorCodeInfo{"sql.unused_variable", C::invalid_input,
                  "A declared variable of an sql source is not used in the query."},
    ErrorCodeInfo{"store.backup", C::invalid_input,
                  "A backup file cannot be written or read, or is damaged or not a backup."},
    ErrorCodeInfo{"store.backup_exists", C::conflict,
                  "The backup file exists already (pass --force to replace it)."},
    ErrorCodeInfo{"store.backup_key_mismatch", C::precondition,
                  "The backup was made with another master key than the data directory's."},
    ErrorCodeInfo{"store.corrupt", C::internal, "A stored source or secret is damaged."},
    ErrorCodeInfo{"store.crypto", C::internal, "libsodium could not initialise."},
    ErrorCodeInfo{"store.data_dir", C::precondition, "The data directory cannot be created."},
    ErrorCodeInfo{"store.exists", C::version_mismatch,
                  "A source or field of this name exists already (If-None-Match: *)."},
    ErrorCodeInfo{"store.fenced", C::conflict,
                  "A write under a lease another instance has taken over since was refused."},
    ErrorCodeInfo{"store.in_use", C::conflict, "The source is used by fields."},
    ErrorCodeInfo{"store.lease", C::internal,
                  "A lease was asked for without a holder or with no lifetime."},
    ErrorCodeInfo{"store.master_key", C::precondition,
                  "The master key is missing, malformed, unsafe or not the data directory's."},
    ErrorCodeInfo{
        "store.master_key_missing", C::precondition,
        "The store exists but its master.key is missing: restore the key, never a new one."},
    ErrorCodeInfo{"store.migrate_not_empty", C::conflict,
                  "store migrate targets a PostgreSQL store that holds data already."},
    ErrorCodeInfo{"store.not_found", C::precondition,
                  "No store in the data directory named (--data / EXTDATA_DATA); `extdata init` "
                  "or `apply` creates one."},
    ErrorCodeInfo{"store.password_file", C::precondition,
                  "EXTDATA_STORE_PASSWORD_FILE is missing, empty or readable by other users."},
    ErrorCodeInfo{"store.postgres", C::internal, "The PostgreSQL store refused a statement."},
    ErrorCodeInfo{"store.restore_not_empty", C::conflict,
                  "A restore targets a data directory that has a store already."},
    ErrorCodeInfo{"store.sqlite", C::internal, "A database error."},
    ErrorCodeInfo{"store.unavailable", C::upstream_unavailable,
                  "The PostgreSQL store cannot be reached (down, restarting, refusing the "
                  "login); extdata reconnects on the next call."},
    ErrorCodeInfo{"store.unknown_source", C::invalid_input,
                  "A field names a source that does not exist."},
    ErrorCodeInfo{"store.url", C::invalid_input,
                  "--store / EXTDATA_STORE is not a postgresql:// URL libpq accepts."},
    ErrorCodeInfo{"store.url_password", C::invalid_input,
                  "The store URL holds a password: use PGPASSFILE or EXTDATA_STORE_PASSWORD_FILE."},
    ErrorCodeInfo{"store.version", C::precondition,
                  "The data directory was written by a newer extdata."},
    ErrorCodeInfo{"store.version_mismatch", C::version_mismatch,
                  "The source or field was changed or deleted since the version If-Match names."},
    ErrorCodeInfo{"target.jira_failed", C::upstream,
                  "Jira answered a target's request with an error or something unusable."},
    ErrorCodeInfo{"target.jira_forbidden", C::upstream,
                  "Jira answered 403: the target's account is not a Jira administrator."},
    ErrorCodeInfo{"target.jira_not_found", C::upstream,
                  "Jira answered 404, or has no such context: field_id or context_id is wrong "
                  "(the message lists the field's contexts)."},
    ErrorCodeInfo{"target.jira_rejected", C::upstream,
                  "Jira answered 400: it refused the options as sent (reported per option)."},
    ErrorCodeInfo{"target.jira_throttled", C::upstream_unavailable,
                  "Jira kept answering 429 after the retries honouring Retry-After."},
    ErrorCodeInfo{"target.jira_unauthorized", C::upstream,
                  "Jira answered 401: the target's API token (or PAT) is wrong or expired."},
    ErrorCodeInfo{"target.not_found", C::not_found, "No target with this name."},
    ErrorCodeInfo{"target.option_duplicate", C::invalid_input,
                  "An option's label differs only in case from another one of the Jira context "
                  "(Jira compares case-insensitively); the option is left out."},
    ErrorCodeInfo{"target.option_too_long", C::invalid_input,
                  "An option's label is over Jira's 255 characters; the option is left out."},
    ErrorCodeInfo{"template.syntax", C::invalid_input, "A template is malformed."},
    ErrorCodeInfo{"template.too_long", C::invalid_input, "A template is over the length limit."},
    ErrorCodeInfo{"time.bad_timestamp", C::invalid_input,
                  "A timestamp is not RFC 3339 (the position is named)."},
    ErrorCodeInfo{"token.not_found", C::not_found, "No API token with this id."},
    ErrorCodeInfo{"token.role", C::invalid_input, "The role is not admin or reader."},
    ErrorCodeInfo{
        "url.invalid", C::invalid_input,
        "A URL cannot be parsed, is too long or holds control characters (the position is named)."},
    ErrorCodeInfo{"xml.syntax", C::upstream, "A response (or input) is not well-formed XML."},
    ErrorCodeInfo{"xml.too_deep", C::upstream, "An XML document is nested deeper than the limit."},
    ErrorCodeInfo{"xml.utf8", C::upstream, "XML text is not valid UTF-8."},
    ErrorCodeInfo{"xpath.evaluation", C::upstream, "An XPath failed while evaluating."},
    ErrorCodeInfo{"xpath.syntax", C::invalid_input, "An XPath is malformed or too large."},
    ErrorCodeInfo{"xpath.type", C::invalid_input, "The records XPath does not select nodes."},
};

}  // namespace

std::span<const ErrorCodeInfo> error_codes() {
  return kCodes;
}

const ErrorCodeInfo* find_error_code(std::string_view code) {
  auto it =
      std::lower_bound(kCodes.begin(), kCodes.end(), code,
                       [](const ErrorCodeInfo& info, std::string_view c) { return info.code < c; });
  return it != kCodes.end() && it->code == code ? &*it : nullptr;
}

std::span<const CategoryInfo> error_categories() {
  return kCategories;
}

const CategoryInfo& category_info(ErrorCategory category) {
  for (const auto& info : kCategories)
    if (info.category == category) return info;
  return kCategories.back();  // internal; every enumerator has an entry (tested)
}

ErrorCategory Error::category() const {
  if (explicit_category) return *explicit_category;
  const ErrorCodeInfo* info = find_error_code(code);
  return info ? info->category : ErrorCategory::internal;
}

std::string errors_markdown() {
  std::string out =
      "# Errors\n\n"
      "<!-- Generated from src/core/error_codes.cpp by `extdata errors`; do not edit.\n"
      "     Regenerate: build/test/extdata errors > docs/errors.md -->\n\n"
      "Every error extdata reports has a stable `code`, a `category`, a `message` in the user's\n"
      "words, a `hint` saying what to do (may be empty) and `upstream` details (HTTP status,\n"
      "AADSTS code, Graph error code, a trimmed body; secrets redacted). The API answers\n"
      "`{\"ok\": false, \"error\": {...}}` with the category's HTTP status; `extdata ... --output\n"
      "json` prints the same document and exits with the category's exit code.\n\n"
      "## Categories\n\n"
      "The category alone decides the HTTP status and the exit code.\n\n"
      "| category | HTTP status | exit code | meaning |\n|---|---|---|---|\n";
  for (const auto& c : kCategories)
    out += "| `" + std::string(c.name) + "` | " + std::to_string(c.http_status) + " | " +
           std::to_string(c.exit_code) + " | " + std::string(c.meaning) + " |\n";
  out += "\n## Codes\n\n| code | category | meaning |\n|---|---|---|\n";
  for (const auto& e : kCodes)
    out += "| `" + std::string(e.code) + "` | " + std::string(category_name(e.category)) + " | " +
           std::string(e.meaning) + " |\n";
  return out;
}

}  // namespace extdata
