#pragma once
// Token-endpoint errors in the user's words. Microsoft identity platform answers are
// translated by their numeric AADSTS code (the stable part; the text is not), other
// servers by their RFC 6749 §5.2 error code. The upstream code, trace ID and
// correlation ID are always kept in Error::details.
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata::auth {

// `body` is the token endpoint's answer (JSON or not), `http_status` its status.
// Error codes: auth.invalid_secret, auth.secret_expired, auth.unknown_client,
// auth.unknown_tenant, auth.invalid_tenant, auth.invalid_scope, auth.missing_parameter,
// auth.missing_credential, auth.certificate_not_registered, auth.assertion_time_invalid,
// auth.tenant_required, auth.invalid_client, auth.invalid_grant, auth.unauthorized_client,
// auth.unsupported_grant_type, auth.invalid_request, auth.invalid_target,
// auth.token_request_failed (anything else).
// Details: http_status, error, error_description (redacted, trimmed), aadsts, trace_id,
// correlation_id, timestamp, error_uri — each only when upstream sent it.
Error translate_token_error(long http_status, std::string_view body);

// An auth.invalid_secret error says the secret ID was pasted only when the secret sent has
// the shape of one (a GUID); otherwise the value is wrong or revoked.
void explain_rejected_secret(Error& error, std::string_view sent_secret);

// The first AADSTS code of an Entra error body (error_codes[0], else "AADSTSnnnn" in
// error_description); nullopt when there is none.
std::optional<long long> aadsts_code(std::string_view body);

}  // namespace extdata::auth
