#pragma once

// An error is a code plus a static, human-readable reason. The reason is a
// string literal (never allocated), so errors can be made and passed around
// even when memory is exhausted.
//
// This header uses no standard library so that every target, including the
// UEFI loader (which cannot include libstdc++ headers), can share it.

namespace aisos {

enum class ErrorCode : int {
    InvalidArgument = 1, // malformed input
    OutOfMemory,
    NotFound,
    Unsupported,
    OutOfRange,
    Corrupt, // data failed validation (checksum, magic, layout)
    Busy,
    Timeout,
    IoError,
    Exists,
    NoSpace,
    PermissionDenied,
    Overflow,
    WouldBlock,
    BadAddress, // a pointer from user mode that is not the caller's memory
};

class Error {
public:
    constexpr Error(ErrorCode code, const char* reason)
        : m_code(code)
        , m_reason(reason)
    {
    }

    static constexpr Error invalid(const char* reason) { return { ErrorCode::InvalidArgument, reason }; }
    static constexpr Error no_memory() { return { ErrorCode::OutOfMemory, "out of memory" }; }
    static constexpr Error corrupt(const char* reason) { return { ErrorCode::Corrupt, reason }; }
    static constexpr Error unsupported(const char* reason) { return { ErrorCode::Unsupported, reason }; }
    static constexpr Error not_found(const char* reason) { return { ErrorCode::NotFound, reason }; }

    constexpr ErrorCode code() const { return m_code; }
    constexpr const char* reason() const { return m_reason; }
    constexpr bool operator==(const Error& other) const { return m_code == other.m_code; }

private:
    ErrorCode m_code;
    const char* m_reason;
};

const char* error_code_name(ErrorCode);

} // namespace aisos
