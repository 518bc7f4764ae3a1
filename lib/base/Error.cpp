#include "lib/base/Error.h"

namespace aisos {

const char* error_code_name(ErrorCode code)
{
    switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::NotFound: return "not found";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::OutOfRange: return "out of range";
    case ErrorCode::Corrupt: return "corrupt";
    case ErrorCode::Busy: return "busy";
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::IoError: return "I/O error";
    case ErrorCode::Exists: return "exists";
    case ErrorCode::NoSpace: return "no space";
    case ErrorCode::PermissionDenied: return "permission denied";
    case ErrorCode::Overflow: return "overflow";
    case ErrorCode::WouldBlock: return "would block";
    case ErrorCode::BadAddress: return "bad address";
    }
    return "unknown error";
}

} // namespace aisos
