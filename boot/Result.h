#pragma once

// The loader's ErrorOr: lib/base/ErrorOr.h needs <new>, <type_traits> and
// <utility>, which do not compile for the x86_64-windows target the loader
// is built for. Result<T> has the same interface (is_error, error,
// release_value) so that the same TRY() works, but it only holds trivially
// copyable values, which is all the loader passes around.

#include "lib/base/Error.h"

namespace aisos::boot {

template<typename T>
class [[nodiscard]] Result {
public:
    Result(const T& value)
        : m_value(value)
    {
    }
    Result(Error error)
        : m_error(error)
        , m_is_error(true)
    {
    }

    bool is_error() const { return m_is_error; }
    Error error() const { return m_error; }
    T& value() { return m_value; }
    const T& value() const { return m_value; }
    T release_value() { return m_value; }

private:
    T m_value {};
    Error m_error { ErrorCode::InvalidArgument, "" };
    bool m_is_error { false };
};

template<>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error)
        : m_error(error)
        , m_is_error(true)
    {
    }

    bool is_error() const { return m_is_error; }
    Error error() const { return m_error; }
    void release_value() { }

private:
    Error m_error { ErrorCode::InvalidArgument, "" };
    bool m_is_error { false };
};

} // namespace aisos::boot

// Same expansion as in lib/base/ErrorOr.h, so including both is harmless.
#ifndef TRY
#    define TRY(expression)                                \
        ({                                                 \
            auto&& _try_result = (expression);             \
            if (_try_result.is_error()) [[unlikely]]       \
                return _try_result.error();                \
            _try_result.release_value();                   \
        })
#endif
