#pragma once
// The API's contract: the OpenAPI 3.1 document served at GET /api/v1/openapi.json.
#include <string_view>

namespace extdata::api {

std::string_view openapi_document();

}  // namespace extdata::api
