// The OpenAPI 3.1 document of the API, served at GET /api/v1/openapi.json. Every route of
// ApiServer::Impl::routes() has its operation here (a unit test fails on a route the document
// lacks or the reverse); tests/integration/openapi.sh validates it with an independent
// validator and checks recorded answers against its schemas.
#include "api/openapi.h"

namespace extdata::api {

std::string_view openapi_document() {
  static constexpr std::string_view text = R"openapi({
 "openapi": "3.1.0",
 "info": {
  "title": "extdata API",
  "version": "1",
  "description": "Fields, sources and targets of extdata (docs/api.md). Errors are {\"ok\": false, \"error\": {code, category, message, hint, upstream}}; the category decides the status (docs/errors.md). Stored sources and fields carry a version as a strong ETag; PUT and DELETE honour If-Match and If-None-Match: * (docs/api.md, \"Create is not replace\"). x-extdata-role names the least role an operation needs."
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "operationId": "healthz",
    "summary": "Health",
    "security": [],
    "responses": {
     "200": {
      "description": "Healthy",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "status"
         ],
         "properties": {
          "status": {
           "const": "ok"
          }
         }
        }
       }
      }
     }
    }
   },
   "head": {
    "operationId": "healthzHead",
    "summary": "Health (headers only)",
    "security": [],
    "responses": {
     "200": {
      "description": "Healthy"
     }
    }
   }
  },
  "/oauth2/callback": {
   "get": {
    "operationId": "oauth2Callback",
    "summary": "Where the provider sends the browser back after a sign-in; the state is the proof (no token)",
    "security": [],
    "parameters": [
     {
      "name": "state",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "code",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "error",
      "in": "query",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "An HTML page saying who connected",
      "content": {
       "text/html": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "400": {
      "description": "An HTML page with the error (unknown or replayed state, access_denied); nothing stored",
      "content": {
       "text/html": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics",
    "security": [],
    "responses": {
     "200": {
      "description": "Prometheus text exposition",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "head": {
    "operationId": "metricsHead",
    "summary": "Metrics (headers only)",
    "security": [],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   }
  },
  "/api/v1/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "security": [],
    "responses": {
     "200": {
      "description": "The OpenAPI 3.1 document",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/kinds": {
   "get": {
    "operationId": "kinds",
    "summary": "Source kinds, auth methods and target types with their settings",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "The kinds document",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Kinds"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources": {
   "get": {
    "operationId": "listSources",
    "summary": "Every source with warnings, status and the targets it feeds",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Sources",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "sources"
         ],
         "properties": {
          "sources": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/SourceListItem"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "getSource",
    "summary": "One source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "The source",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceWithWarnings"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "x-extdata-role": "admin"
   },
   "put": {
    "operationId": "putSource",
    "summary": "Create or replace a source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Replaced (or unchanged)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceWithWarnings"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceWithWarnings"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     }
    },
    "description": "Validated like the config file; ${env:} and ${file:} are refused (config.host_reference). With If-None-Match: * only creates; with If-Match only replaces that version; with neither an upsert.",
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/SourceInput"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   },
   "delete": {
    "operationId": "deleteSource",
    "summary": "Delete a source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Deleted",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Deleted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/authenticate": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "post": {
    "operationId": "authenticateSource",
    "summary": "The Authenticate button",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "What the credential learned (ok false with error when it failed)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/AuthReport"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/connect": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "post": {
    "operationId": "connectSource",
    "summary": "Start a sign-in for a source whose oauth2 grant is authorization_code: the URL to open",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "The provider's sign-in URL (with PKCE and state) and the redirect URI to register",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "source",
          "authorize_url",
          "redirect_uri",
          "expires_in"
         ],
         "properties": {
          "source": {
           "type": "string"
          },
          "authorize_url": {
           "type": "string"
          },
          "redirect_uri": {
           "type": "string"
          },
          "expires_in": {
           "type": "integer"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/refresh": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "post": {
    "operationId": "refreshSource",
    "summary": "Refetch every cached record set of the source (and sync its targets)",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "What was refetched",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RefreshReport"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/test": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "post": {
    "operationId": "testSource",
    "summary": "Test a stored source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Steps, pages, records, sample",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TestReport"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "variables": {
          "type": "object"
         }
        }
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/sharepoint/lists": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "sharepointLists",
    "summary": "The SharePoint site's lists",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Lists",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "additionalProperties": true
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/sharepoint/columns": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "sharepointColumns",
    "summary": "The SharePoint list's columns",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Columns",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "additionalProperties": true
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/sql/tables": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "sqlTables",
    "summary": "The tables and views an sql source's user sees",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Tables",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SqlTables"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/sources/{name}/sql/columns": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    },
    {
     "name": "table",
     "in": "query",
     "required": true,
     "description": "schema.table or table, as listed by sql/tables",
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "operationId": "sqlColumns",
    "summary": "An sql source's table: its columns and the query selecting them",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Columns",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SqlTable"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/authenticate": {
   "post": {
    "operationId": "draftAuthenticate",
    "summary": "Authenticate an unsaved source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Report",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/AuthReport"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DraftBody"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/test": {
   "post": {
    "operationId": "draftTest",
    "summary": "Test an unsaved source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Report",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TestReport"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DraftBody"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/sharepoint/lists": {
   "post": {
    "operationId": "draftSharepointLists",
    "summary": "Lists of an unsaved SharePoint source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Lists",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "additionalProperties": true
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DraftBody"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/sharepoint/columns": {
   "post": {
    "operationId": "draftSharepointColumns",
    "summary": "Columns of an unsaved SharePoint source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Columns",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "additionalProperties": true
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DraftBody"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/sql/tables": {
   "post": {
    "operationId": "draftSqlTables",
    "summary": "Tables of an unsaved sql source",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Tables",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SqlTables"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DraftBody"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/sql/columns": {
   "post": {
    "operationId": "draftSqlColumns",
    "summary": "A table of an unsaved sql source: its columns and the query selecting them",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Columns",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SqlTable"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "allOf": [
         {
          "$ref": "#/components/schemas/DraftBody"
         },
         {
          "type": "object",
          "required": [
           "table"
          ],
          "properties": {
           "table": {
            "type": "string"
           }
          }
         }
        ]
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/draft/field-options": {
   "post": {
    "operationId": "draftFieldOptions",
    "summary": "Preview an unsaved field",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Options and template warnings",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/DraftOptions"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "field"
        ],
        "properties": {
         "field": {
          "$ref": "#/components/schemas/FieldInput"
         },
         "q": {
          "type": "string"
         },
         "limit": {
          "type": "integer"
         },
         "context": {
          "type": "object"
         }
        }
       }
      }
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/fields": {
   "get": {
    "operationId": "listFields",
    "summary": "Every field",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Fields",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "fields"
         ],
         "properties": {
          "fields": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Field"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/fields/{name}": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "getField",
    "summary": "One field",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "The field",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Field"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "x-extdata-role": "admin"
   },
   "put": {
    "operationId": "putField",
    "summary": "Create or replace a field",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Replaced (or unchanged), with template warnings",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/FieldWithWarnings"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/FieldWithWarnings"
        }
       }
      },
      "headers": {
       "ETag": {
        "$ref": "#/components/headers/ETag"
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/FieldInput"
       }
      }
     }
    },
    "x-extdata-role": "admin"
   },
   "delete": {
    "operationId": "deleteField",
    "summary": "Delete a field",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Deleted",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Deleted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/fields/{name}/options": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "fieldOptions",
    "summary": "The field's options (search as you type)",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     },
     {}
    ],
    "responses": {
     "200": {
      "description": "Options; with format=array the flat array",
      "content": {
       "application/json": {
        "schema": {
         "oneOf": [
          {
           "$ref": "#/components/schemas/Options"
          },
          {
           "$ref": "#/components/schemas/FlatOptions"
          }
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     },
     "504": {
      "$ref": "#/components/responses/Timeout"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/q"
     },
     {
      "$ref": "#/components/parameters/limit"
     },
     {
      "$ref": "#/components/parameters/offset"
     },
     {
      "$ref": "#/components/parameters/ctx"
     },
     {
      "$ref": "#/components/parameters/format"
     }
    ],
    "x-extdata-role": "reader"
   },
   "post": {
    "operationId": "fieldOptionsPost",
    "summary": "The field's options, query in the body",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     },
     {}
    ],
    "responses": {
     "200": {
      "description": "Options",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Options"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     },
     "504": {
      "$ref": "#/components/responses/Timeout"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/format"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/OptionsQuery"
       }
      }
     }
    },
    "x-extdata-role": "reader"
   }
  },
  "/api/v1/fields/{name}/value": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "get": {
    "operationId": "fieldValue",
    "summary": "The current label of a stored key",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     },
     {}
    ],
    "responses": {
     "200": {
      "description": "found false when the key no longer exists upstream",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Value"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "429": {
      "$ref": "#/components/responses/RateLimited"
     },
     "502": {
      "$ref": "#/components/responses/Upstream"
     },
     "504": {
      "$ref": "#/components/responses/Timeout"
     }
    },
    "parameters": [
     {
      "name": "key",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "$ref": "#/components/parameters/ctx"
     }
    ],
    "x-extdata-role": "reader"
   }
  },
  "/api/v1/targets": {
   "get": {
    "operationId": "listTargets",
    "summary": "Every target with its last sync",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "Targets",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "targets"
         ],
         "properties": {
          "targets": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Target"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "x-extdata-role": "admin"
   }
  },
  "/api/v1/targets/{name}/sync": {
   "parameters": [
    {
     "$ref": "#/components/parameters/name"
    }
   ],
   "post": {
    "operationId": "syncTarget",
    "summary": "Sync a target now",
    "security": [
     {
      "bearer": []
     },
     {
      "basic": []
     }
    ],
    "responses": {
     "200": {
      "description": "The report (ok false with error when Jira refused)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SyncReport"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/dry_run"
     }
    ],
    "x-extdata-role": "admin"
   }
  }
 },
 "components": {
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "ok",
     "error"
    ],
    "properties": {
     "ok": {
      "const": false
     },
     "error": {
      "type": "object",
      "required": [
       "code",
       "category",
       "message"
      ],
      "properties": {
       "code": {
        "type": "string",
        "description": "Stable code, see docs/errors.md"
       },
       "category": {
        "type": "string",
        "enum": [
         "invalid_input",
         "usage",
         "not_found",
         "method_not_allowed",
         "conflict",
         "version_mismatch",
         "too_large",
         "precondition",
         "unauthorized",
         "forbidden",
         "upstream",
         "upstream_unavailable",
         "timeout",
         "rate_limited",
         "internal"
        ]
       },
       "message": {
        "type": "string"
       },
       "hint": {
        "type": "string"
       },
       "upstream": {
        "type": "object",
        "additionalProperties": true,
        "description": "Upstream details (admins only): status, AADSTS or Graph code, trace ids; current_version and current_etag on a 412"
       }
      }
     }
    }
   },
   "Source": {
    "type": "object",
    "required": [
     "name",
     "type"
    ],
    "additionalProperties": true,
    "description": "A source as in the config file (docs/configuration.md); secrets appear as {\"set\": true}",
    "properties": {
     "name": {
      "type": "string"
     },
     "type": {
      "type": "string"
     }
    }
   },
   "SourceInput": {
    "type": "object",
    "required": [
     "type"
    ],
    "additionalProperties": true,
    "description": "The keys of a source in the config file; a secret sent back as {\"set\": true} keeps the stored one"
   },
   "SourceStatus": {
    "type": "object",
    "additionalProperties": true,
    "properties": {
     "last_fetch_at": {
      "type": "integer"
     },
     "last_success_at": {
      "type": "integer"
     },
     "records": {
      "type": "integer"
     },
     "last_error": {
      "type": "object",
      "properties": {
       "message": {
        "type": "string"
       },
       "hint": {
        "type": "string"
       }
      }
     },
     "token_expires_at": {
      "type": "integer"
     }
    }
   },
   "SourceListItem": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Source"
     },
     {
      "type": "object",
      "properties": {
       "warnings": {
        "type": "array",
        "items": {
         "type": "string"
        }
       },
       "status": {
        "$ref": "#/components/schemas/SourceStatus"
       },
       "targets": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/TargetSummary"
        }
       }
      }
     }
    ]
   },
   "SourceWithWarnings": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Source"
     },
     {
      "type": "object",
      "properties": {
       "warnings": {
        "type": "array",
        "items": {
         "type": "string"
        }
       },
       "status": {
        "$ref": "#/components/schemas/SourceStatus"
       }
      }
     }
    ]
   },
   "Field": {
    "type": "object",
    "required": [
     "name",
     "source"
    ],
    "additionalProperties": true,
    "description": "A field as in the config file (docs/fields.md)",
    "properties": {
     "name": {
      "type": "string"
     },
     "source": {
      "type": "string"
     }
    }
   },
   "FieldInput": {
    "type": "object",
    "required": [
     "source"
    ],
    "additionalProperties": true
   },
   "FieldWithWarnings": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Field"
     },
     {
      "type": "object",
      "properties": {
       "warnings": {
        "type": "array",
        "items": {
         "type": "string"
        }
       }
      }
     }
    ]
   },
   "Option": {
    "type": "object",
    "required": [
     "value",
     "label",
     "data"
    ],
    "properties": {
     "value": {
      "type": "string"
     },
     "label": {
      "type": "string"
     },
     "data": {
      "oneOf": [
       {
        "type": "null"
       },
       {
        "type": "object",
        "additionalProperties": {
         "type": "string"
        }
       }
      ]
     }
    }
   },
   "Options": {
    "type": "object",
    "required": [
     "options",
     "total",
     "stale"
    ],
    "properties": {
     "options": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Option"
      }
     },
     "total": {
      "type": "integer",
      "minimum": 0
     },
     "stale": {
      "type": "boolean"
     },
     "fetched_at": {
      "type": "string",
      "description": "RFC 3339"
     },
     "age_seconds": {
      "type": "number"
     },
     "warnings": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "error": {
      "type": "object",
      "additionalProperties": true,
      "description": "why stale records are served"
     }
    }
   },
   "FlatOptions": {
    "type": "array",
    "description": "format=array: the flat array Jira Forms data connections read (docs/jira-forms.md)",
    "items": {
     "type": "object",
     "required": [
      "id",
      "value"
     ],
     "properties": {
      "id": {
       "type": "string",
       "description": "the option's value"
      },
      "value": {
       "type": "string",
       "description": "the option's label"
      }
     },
     "additionalProperties": {
      "type": "string",
      "description": "the field's declared data columns"
     }
    }
   },
   "DraftOptions": {
    "type": "object",
    "required": [
     "options",
     "total"
    ],
    "description": "A preview: each option's data is the whole record",
    "properties": {
     "options": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "value",
        "label"
       ],
       "properties": {
        "value": {
         "type": "string"
        },
        "label": {
         "type": "string"
        },
        "data": {}
       }
      }
     },
     "total": {
      "type": "integer",
      "minimum": 0
     },
     "stale": {
      "type": "boolean"
     },
     "warnings": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "OptionsQuery": {
    "type": "object",
    "properties": {
     "q": {
      "type": "string"
     },
     "limit": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000
     },
     "offset": {
      "type": "integer",
      "minimum": 0
     },
     "context": {
      "type": "object",
      "additionalProperties": {
       "type": [
        "string",
        "number",
        "boolean"
       ]
      }
     }
    }
   },
   "Value": {
    "type": "object",
    "required": [
     "found",
     "value"
    ],
    "properties": {
     "found": {
      "type": "boolean"
     },
     "value": {
      "type": "string"
     },
     "label": {
      "type": [
       "string",
       "null"
      ]
     },
     "data": {
      "type": [
       "object",
       "null"
      ]
     },
     "stale": {
      "type": "boolean"
     },
     "message": {
      "type": "string"
     }
    },
    "additionalProperties": true
   },
   "Kinds": {
    "type": "object",
    "required": [
     "sources",
     "auth"
    ],
    "properties": {
     "sources": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Kind"
      }
     },
     "auth": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Kind"
      }
     },
     "targets": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Kind"
      }
     }
    }
   },
   "Kind": {
    "type": "object",
    "required": [
     "type",
     "title",
     "description",
     "settings"
    ],
    "properties": {
     "type": {
      "type": "string"
     },
     "title": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "settings": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "key",
        "type"
       ],
       "additionalProperties": true
      }
     }
    }
   },
   "AuthReport": {
    "type": "object",
    "required": [
     "ok"
    ],
    "additionalProperties": true,
    "properties": {
     "ok": {
      "type": "boolean"
     },
     "token_type": {
      "type": "string"
     },
     "expires_in": {
      "type": "integer"
     },
     "claims": {
      "type": "object"
     },
     "warnings": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "error": {
      "type": "object"
     }
    }
   },
   "TestReport": {
    "type": "object",
    "required": [
     "ok"
    ],
    "additionalProperties": true,
    "properties": {
     "ok": {
      "type": "boolean"
     },
     "steps": {
      "type": "array"
     },
     "records": {
      "type": "integer"
     },
     "columns": {
      "type": "array"
     },
     "sample": {
      "type": "array"
     },
     "warnings": {
      "type": "array"
     },
     "error": {
      "type": "object"
     }
    }
   },
   "SqlTables": {
    "type": "object",
    "required": [
     "tables"
    ],
    "properties": {
     "tables": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "name"
       ],
       "properties": {
        "schema": {
         "type": [
          "string",
          "null"
         ]
        },
        "name": {
         "type": "string"
        },
        "type": {
         "type": [
          "string",
          "null"
         ]
        }
       }
      }
     }
    }
   },
   "SqlTable": {
    "type": "object",
    "required": [
     "table",
     "from",
     "columns",
     "query"
    ],
    "properties": {
     "table": {
      "type": "string"
     },
     "from": {
      "type": "string",
      "description": "The table as written in the source's SQL"
     },
     "query": {
      "type": "string",
      "description": "SELECT every column FROM the table"
     },
     "columns": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "name",
        "sql"
       ],
       "properties": {
        "name": {
         "type": "string"
        },
        "type": {
         "type": [
          "string",
          "null"
         ]
        },
        "nullable": {
         "type": [
          "boolean",
          "integer",
          "null"
         ]
        },
        "sql": {
         "type": "string",
         "description": "The column's name as written in the source's SQL"
        }
       }
      }
     }
    }
   },
   "DraftBody": {
    "type": "object",
    "required": [
     "source"
    ],
    "properties": {
     "source": {
      "$ref": "#/components/schemas/SourceInput"
     },
     "variables": {
      "type": "object"
     }
    }
   },
   "RefreshReport": {
    "type": "object",
    "required": [
     "ok",
     "keys",
     "records",
     "errors"
    ],
    "properties": {
     "ok": {
      "type": "boolean"
     },
     "keys": {
      "type": "integer"
     },
     "records": {
      "type": "integer"
     },
     "errors": {
      "type": "array",
      "items": {
       "type": "object"
      }
     }
    }
   },
   "Deleted": {
    "type": "object",
    "required": [
     "deleted"
    ],
    "properties": {
     "deleted": {
      "type": "string"
     }
    }
   },
   "SyncCounts": {
    "type": "object",
    "required": [
     "created",
     "updated",
     "disabled",
     "deleted",
     "enabled",
     "unchanged"
    ],
    "properties": {
     "created": {
      "type": "integer",
      "minimum": 0
     },
     "updated": {
      "type": "integer",
      "minimum": 0
     },
     "disabled": {
      "type": "integer",
      "minimum": 0
     },
     "deleted": {
      "type": "integer",
      "minimum": 0
     },
     "enabled": {
      "type": "integer",
      "minimum": 0
     },
     "unchanged": {
      "type": "integer",
      "minimum": 0
     }
    }
   },
   "SyncReport": {
    "type": "object",
    "required": [
     "ok",
     "dry_run",
     "counts",
     "problems"
    ],
    "properties": {
     "target": {
      "type": "string"
     },
     "ok": {
      "type": "boolean"
     },
     "dry_run": {
      "type": "boolean"
     },
     "context_id": {
      "type": "string"
     },
     "counts": {
      "$ref": "#/components/schemas/SyncCounts"
     },
     "problems": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "value",
        "code",
        "message"
       ],
       "properties": {
        "value": {
         "type": "string"
        },
        "label": {
         "type": "string"
        },
        "code": {
         "type": "string"
        },
        "message": {
         "type": "string"
        }
       }
      }
     },
     "requests": {
      "type": "integer"
     },
     "writes": {
      "type": "integer"
     },
     "seconds": {
      "type": "number"
     },
     "finished_at": {
      "type": "integer"
     },
     "error": {
      "type": "object",
      "additionalProperties": true
     }
    }
   },
   "TargetSummary": {
    "type": "object",
    "required": [
     "name",
     "type",
     "field"
    ],
    "properties": {
     "name": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "field": {
      "type": "string"
     },
     "last_sync": {
      "oneOf": [
       {
        "type": "null"
       },
       {
        "$ref": "#/components/schemas/SyncReport"
       }
      ]
     }
    }
   },
   "Target": {
    "allOf": [
     {
      "$ref": "#/components/schemas/TargetSummary"
     },
     {
      "type": "object",
      "additionalProperties": true,
      "description": "the target as in the config file (docs/jira-targets.md), secrets as {\"set\": true}"
     }
    ]
   }
  },
  "responses": {
   "BadRequest": {
    "description": "Invalid input (code says which; key path and line for documents), a malformed If-Match/If-None-Match (api.bad_precondition), a body nested too deep (api.json_too_deep)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unauthorized": {
    "description": "No or unknown API token",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "A reader token on an admin endpoint",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "No such source, field, target or endpoint (with a did-you-mean)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "MethodNotAllowed": {
    "description": "The path exists, not with this method",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Conflict": {
    "description": "The source is still used by fields",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "PreconditionFailed": {
    "description": "If-Match / If-None-Match not met: store.exists or store.version_mismatch; error.upstream carries current_version and current_etag when the item exists",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "TooLarge": {
    "description": "The request body is over the server's limit",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "RateLimited": {
    "description": "cache.rate_limited: the source's budget of new keys a minute is spent",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    },
    "headers": {
     "Retry-After": {
      "schema": {
       "type": "string"
      },
      "description": "seconds"
     }
    }
   },
   "Internal": {
    "description": "A failure inside extdata",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Upstream": {
    "description": "The upstream failed or could not be reached",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Timeout": {
    "description": "The upstream timed out",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  },
  "parameters": {
   "name": {
    "name": "name",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string",
     "pattern": "^[A-Za-z0-9_-]{1,64}$"
    }
   },
   "IfMatch": {
    "name": "If-Match",
    "in": "header",
    "required": false,
    "schema": {
     "type": "string"
    },
    "description": "Write only this version: one or more strong ETags (\"17\") or *; a weak tag never matches. Not together with If-None-Match."
   },
   "IfNoneMatch": {
    "name": "If-None-Match",
    "in": "header",
    "required": false,
    "schema": {
     "type": "string",
     "enum": [
      "*"
     ]
    },
    "description": "Create only: * (412 store.exists when the item exists)."
   },
   "q": {
    "name": "q",
    "in": "query",
    "schema": {
     "type": "string",
     "maxLength": 1024
    },
    "description": "Search text (case- and accent-insensitive)"
   },
   "limit": {
    "name": "limit",
    "in": "query",
    "schema": {
     "type": "integer",
     "minimum": 1,
     "maximum": 1000
    }
   },
   "offset": {
    "name": "offset",
    "in": "query",
    "schema": {
     "type": "integer",
     "minimum": 0
    }
   },
   "ctx": {
    "name": "ctx",
    "in": "query",
    "style": "deepObject",
    "explode": true,
    "schema": {
     "type": "object",
     "additionalProperties": {
      "type": "string"
     }
    },
    "description": "Context values as ctx.KEY=VALUE; only keys the field declares (else 400 field.undeclared_context)"
   },
   "format": {
    "name": "format",
    "in": "query",
    "schema": {
     "type": "string",
     "enum": [
      "array"
     ]
    },
    "description": "array: the flat array [{id, value, …data}] of every option (Jira Forms), at most --max-options-array-bytes (400 field.array_too_large)"
   },
   "dry_run": {
    "name": "dry_run",
    "in": "query",
    "schema": {
     "type": "boolean"
    },
    "description": "Compare only; write nothing"
   }
  },
  "headers": {
   "ETag": {
    "description": "The stored version, a strong entity tag such as \"17\" (opaque)",
    "schema": {
     "type": "string"
    }
   }
  },
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "extdata token create --role admin|reader"
   },
   "basic": {
    "type": "http",
    "scheme": "basic",
    "description": "Any user name, the API token as password (for Jira Forms)"
   }
  }
 }
})openapi";
  return text;
}

}  // namespace extdata::api
