#include "lib/net/http/PathDecoding.h"
#include "lib/json/Utf8.h"

namespace aisos::http {

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ErrorOr<std::string_view> percent_decode(std::string_view input, std::span<char> output, PlusHandling plus)
{
    size_t out = 0;
    for (size_t i = 0; i < input.size(); ++i) {
        if (out >= output.size())
            return Error { ErrorCode::Overflow, "decoded text does not fit" };
        char c = input[i];
        if (c == '%') {
            if (i + 2 >= input.size())
                return Error::invalid("truncated percent-escape");
            int high = hex_value(input[i + 1]);
            int low = hex_value(input[i + 2]);
            if (high < 0 || low < 0)
                return Error::invalid("invalid percent-escape");
            output[out++] = char(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus == PlusHandling::AsSpace) {
            output[out++] = ' ';
        } else {
            output[out++] = c;
        }
    }
    return std::string_view(output.data(), out);
}

ErrorOr<FsPath> decode_fs_path(std::string_view raw, std::span<char> buffer)
{
    auto decoded = TRY(percent_decode(raw, buffer));
    if (!json::is_valid_utf8(decoded))
        return Error::invalid("path is not valid UTF-8");
    FsPath result;
    if (!decoded.empty() && decoded.back() == '/') {
        result.trailing_slash = true;
        decoded.remove_suffix(1);
        if (decoded.empty())
            return Error::invalid("empty path segment");
    }
    size_t start = 0;
    while (start <= decoded.size() && !decoded.empty()) {
        size_t slash = decoded.find('/', start);
        size_t end = slash == std::string_view::npos ? decoded.size() : slash;
        auto segment = decoded.substr(start, end - start);
        if (segment.empty())
            return Error::invalid("empty path segment");
        if (segment == "." || segment == "..")
            return Error::invalid("'.' and '..' are not allowed in paths");
        if (segment.size() > 255)
            return Error::invalid("path segment longer than 255 bytes");
        for (char c : segment) {
            auto byte = static_cast<unsigned char>(c);
            if (byte == 0)
                return Error::invalid("NUL in path");
            if (c == '\\')
                return Error::invalid("backslash in path");
            if (byte < 0x20 || byte == 0x7F)
                return Error::invalid("control character in path");
        }
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    result.path = decoded;
    return result;
}

ErrorOr<std::string_view> query_parameter(std::string_view query, std::string_view name, std::span<char> buffer)
{
    while (!query.empty()) {
        size_t amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view {} : query.substr(amp + 1);
        size_t equals = pair.find('=');
        auto key = pair.substr(0, equals);
        auto value = equals == std::string_view::npos ? std::string_view {} : pair.substr(equals + 1);
        if (key == name)
            return percent_decode(value, buffer, PlusHandling::AsSpace);
    }
    return Error::not_found("query parameter absent");
}

} // namespace aisos::http
