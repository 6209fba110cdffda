#include "core/err.h"

const char *err_str(int code)
{
    switch (code) {
    case ERR_OK: return "success";
    case ERR_NOMEM: return "out of memory";
    case ERR_IO: return "input/output error";
    case ERR_PARSE: return "syntax error";
    case ERR_RANGE: return "value out of range";
    case ERR_NOTFOUND: return "not found";
    case ERR_EXISTS: return "already exists";
    case ERR_AUTH: return "authentication failed";
    case ERR_LIMIT: return "limit exceeded";
    case ERR_BUSY_STATE: return "not allowed in this state";
    case ERR_DB: return "database error";
    case ERR_TLS: return "TLS error";
    case ERR_CONFIG: return "configuration error";
    case ERR_AGAIN: return "temporary failure";
    case ERR_LOOP: return "mail routing loop";
    }
    return "unknown error";
}
