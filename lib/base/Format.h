#pragma once

// Type-safe, allocation-free formatting: format(sink, "cpu {} at {:#x}", id, address).
//
// Replacement fields: "{}" or "{:[fill-or-0][<|>][width][#][x|X|b|d|c]}".
// Supported arguments: integers, bool, char, const char*, std::string_view,
// pointers. "{{" and "}}" print braces. A field without an argument prints
// "{?}" rather than reading garbage: a wrong format string is visible, never
// undefined behaviour.

#include <concepts>
#include <stddef.h>
#include <stdint.h>
#include <string_view>
#include <type_traits>

namespace aisos {

class FormatSink {
public:
    virtual void write(const char* data, size_t length) = 0;

protected:
    ~FormatSink() = default;
};

// Writes into a fixed buffer, truncating (and remembering it) when full.
// The buffer is always NUL-terminated.
class BufferSink final : public FormatSink {
public:
    BufferSink(char* buffer, size_t capacity)
        : m_buffer(buffer)
        , m_capacity(capacity)
    {
        if (m_capacity > 0)
            m_buffer[0] = 0;
    }
    void write(const char* data, size_t length) override;
    std::string_view view() const { return { m_buffer, m_length }; }
    size_t length() const { return m_length; }
    bool truncated() const { return m_truncated; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length { 0 };
    bool m_truncated { false };
};

struct FormatSpec {
    char fill { ' ' };
    char align { 0 }; // '<', '>' or 0 (numbers right, text left)
    bool alternate { false };
    char type { 0 }; // 'x', 'X', 'b', 'd', 'c' or 0
    uint32_t width { 0 };
};

struct FormatArgument {
    enum class Kind : uint8_t { Signed, Unsigned, Bool, Char, String, Pointer };
    Kind kind;
    union {
        int64_t signed_value;
        uint64_t unsigned_value;
        const char* string_data;
    };
    size_t string_length { 0 };
};

template<typename T>
FormatArgument make_format_argument(const T& value)
{
    FormatArgument argument {};
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
        argument.kind = FormatArgument::Kind::Bool;
        argument.unsigned_value = value ? 1 : 0;
    } else if constexpr (std::is_same_v<U, char>) {
        argument.kind = FormatArgument::Kind::Char;
        argument.unsigned_value = static_cast<unsigned char>(value);
    } else if constexpr (std::is_enum_v<U>) {
        argument.kind = FormatArgument::Kind::Signed;
        argument.signed_value = static_cast<int64_t>(value);
    } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        argument.kind = FormatArgument::Kind::Signed;
        argument.signed_value = value;
    } else if constexpr (std::is_integral_v<U>) {
        argument.kind = FormatArgument::Kind::Unsigned;
        argument.unsigned_value = value;
    } else if constexpr (std::is_convertible_v<U, std::string_view>) {
        std::string_view view;
        if constexpr (std::is_pointer_v<U>)
            view = value ? std::string_view(value) : std::string_view("(null)");
        else
            view = value;
        argument.kind = FormatArgument::Kind::String;
        argument.string_data = view.data();
        argument.string_length = view.size();
    } else if constexpr (std::is_pointer_v<U> || std::is_null_pointer_v<U>) {
        argument.kind = FormatArgument::Kind::Pointer;
        argument.unsigned_value = reinterpret_cast<uintptr_t>(value);
    } else {
        static_assert(sizeof(U) == 0, "type cannot be formatted");
    }
    return argument;
}

void format_arguments(FormatSink&, std::string_view format, const FormatArgument* arguments, size_t count);

template<typename... Args>
void format(FormatSink& sink, std::string_view format_string, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        format_arguments(sink, format_string, nullptr, 0);
    } else {
        FormatArgument arguments[] = { make_format_argument(args)... };
        format_arguments(sink, format_string, arguments, sizeof...(Args));
    }
}

// Formats into buffer (NUL-terminated, truncated if needed); returns the view.
template<typename... Args>
std::string_view format_to(char* buffer, size_t capacity, std::string_view format_string, const Args&... args)
{
    BufferSink sink(buffer, capacity);
    format(sink, format_string, args...);
    return sink.view();
}

} // namespace aisos
