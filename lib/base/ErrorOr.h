#pragma once

// ErrorOr<T>: the value of a fallible computation or the Error that stopped
// it. TRY(expr) returns the error early from the enclosing function and
// otherwise yields the value; MUST(expr) marks a call that cannot fail and
// stops the program (via aisos_must_failed, provided per target) if it does.

#include "lib/base/Error.h"

#include <new>
#include <type_traits>
#include <utility>

namespace aisos {

template<typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(const T& value) requires std::is_copy_constructible_v<T>
        : m_has_value(true)
    {
        new (&m_value) T(value);
    }
    ErrorOr(T&& value)
        : m_has_value(true)
    {
        new (&m_value) T(std::move(value));
    }
    template<typename U>
        requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> && !std::is_same_v<std::remove_cvref_t<U>, Error> && !std::is_same_v<std::remove_cvref_t<U>, ErrorOr>)
    ErrorOr(U&& value)
        : m_has_value(true)
    {
        new (&m_value) T(std::forward<U>(value));
    }
    ErrorOr(Error error)
        : m_has_value(false)
        , m_error(error)
    {
    }
    ErrorOr(ErrorOr&& other)
        : m_has_value(other.m_has_value)
        , m_error(other.m_error)
    {
        if (m_has_value)
            new (&m_value) T(std::move(other.m_value));
    }
    ErrorOr(const ErrorOr&) = delete;
    ErrorOr& operator=(const ErrorOr&) = delete;
    ErrorOr& operator=(ErrorOr&& other)
    {
        if (this != &other) {
            this->~ErrorOr();
            new (this) ErrorOr(std::move(other));
        }
        return *this;
    }
    ~ErrorOr()
    {
        if (m_has_value)
            m_value.~T();
    }

    bool is_error() const { return !m_has_value; }
    Error error() const { return m_error; }
    T& value() { return m_value; }
    const T& value() const { return m_value; }
    T release_value() { return std::move(m_value); }

private:
    bool m_has_value;
    Error m_error { ErrorCode::InvalidArgument, "" };
    union {
        T m_value;
    };
};

template<>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error error)
        : m_is_error(true)
        , m_error(error)
    {
    }
    bool is_error() const { return m_is_error; }
    Error error() const { return m_error; }
    void release_value() { }

private:
    bool m_is_error { false };
    Error m_error { ErrorCode::InvalidArgument, "" };
};

} // namespace aisos

extern "C" [[noreturn]] void aisos_must_failed(const char* expression, const char* reason, const char* file, int line);

#define TRY(expression)                                \
    ({                                                 \
        auto&& _try_result = (expression);             \
        if (_try_result.is_error()) [[unlikely]]       \
            return _try_result.error();                \
        _try_result.release_value();                   \
    })

#define MUST(expression)                                                                              \
    ({                                                                                                \
        auto&& _must_result = (expression);                                                           \
        if (_must_result.is_error()) [[unlikely]]                                                     \
            aisos_must_failed(#expression, _must_result.error().reason(), __FILE__, __LINE__);        \
        _must_result.release_value();                                                                 \
    })
