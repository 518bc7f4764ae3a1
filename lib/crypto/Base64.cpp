#include "lib/crypto/Base64.h"

namespace aisos::crypto {

namespace {

constexpr char standard_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum class Padding : uint8_t { Required, Forbidden };

ErrorOr<std::string_view> encode(std::span<const uint8_t> input, std::span<char> output, const char* alphabet, Padding padding)
{
    size_t needed = padding == Padding::Required ? base64_encoded_length(input.size()) : base64url_encoded_length(input.size());
    if (output.size() < needed)
        return Error { ErrorCode::Overflow, "base64: output buffer too small" };
    size_t out = 0;
    size_t i = 0;
    for (; i + 3 <= input.size(); i += 3) {
        uint32_t group = (uint32_t(input[i]) << 16) | (uint32_t(input[i + 1]) << 8) | input[i + 2];
        output[out++] = alphabet[(group >> 18) & 63];
        output[out++] = alphabet[(group >> 12) & 63];
        output[out++] = alphabet[(group >> 6) & 63];
        output[out++] = alphabet[group & 63];
    }
    size_t rest = input.size() - i;
    if (rest > 0) {
        uint32_t group = uint32_t(input[i]) << 16;
        if (rest == 2)
            group |= uint32_t(input[i + 1]) << 8;
        output[out++] = alphabet[(group >> 18) & 63];
        output[out++] = alphabet[(group >> 12) & 63];
        if (rest == 2)
            output[out++] = alphabet[(group >> 6) & 63];
        if (padding == Padding::Required) {
            if (rest == 1)
                output[out++] = '=';
            output[out++] = '=';
        }
    }
    return std::string_view(output.data(), out);
}

int decode_character(char c, const char* alphabet)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == alphabet[62])
        return 62;
    if (c == alphabet[63])
        return 63;
    return -1;
}

ErrorOr<size_t> decode(std::string_view input, std::span<uint8_t> output, const char* alphabet, Padding padding)
{
    size_t length = input.size();
    if (padding == Padding::Required) {
        if (length % 4 != 0)
            return Error::invalid("base64: length is not a multiple of 4");
        if (length > 0 && input[length - 1] == '=') {
            --length;
            if (input[length - 1] == '=')
                --length;
        }
    } else if (length % 4 == 1) {
        return Error::invalid("base64url: impossible length");
    }
    size_t full_groups = length / 4;
    size_t rest = length % 4; // 0, 2 or 3 characters in the last group
    if (rest == 1)
        return Error::invalid("base64: bad padding");
    size_t needed = full_groups * 3 + (rest == 0 ? 0 : rest - 1);
    if (output.size() < needed)
        return Error { ErrorCode::Overflow, "base64: output buffer too small" };

    size_t out = 0;
    size_t i = 0;
    for (size_t group = 0; group < full_groups; ++group, i += 4) {
        uint32_t bits = 0;
        for (size_t j = 0; j < 4; ++j) {
            int value = decode_character(input[i + j], alphabet);
            if (value < 0)
                return Error::invalid("base64: character outside the alphabet");
            bits = (bits << 6) | uint32_t(value);
        }
        output[out++] = uint8_t(bits >> 16);
        output[out++] = uint8_t(bits >> 8);
        output[out++] = uint8_t(bits);
    }
    if (rest > 0) {
        uint32_t bits = 0;
        for (size_t j = 0; j < rest; ++j) {
            int value = decode_character(input[i + j], alphabet);
            if (value < 0)
                return Error::invalid("base64: character outside the alphabet");
            bits = (bits << 6) | uint32_t(value);
        }
        if (rest == 2) {
            if (bits & 0xF)
                return Error::invalid("base64: non-zero unused bits");
            output[out++] = uint8_t(bits >> 4);
        } else {
            if (bits & 0x3)
                return Error::invalid("base64: non-zero unused bits");
            output[out++] = uint8_t(bits >> 10);
            output[out++] = uint8_t(bits >> 2);
        }
    }
    return out;
}

} // namespace

ErrorOr<std::string_view> base64_encode(std::span<const uint8_t> input, std::span<char> output)
{
    return encode(input, output, standard_alphabet, Padding::Required);
}

ErrorOr<std::string_view> base64url_encode(std::span<const uint8_t> input, std::span<char> output)
{
    return encode(input, output, url_alphabet, Padding::Forbidden);
}

ErrorOr<size_t> base64_decode(std::string_view input, std::span<uint8_t> output)
{
    return decode(input, output, standard_alphabet, Padding::Required);
}

ErrorOr<size_t> base64url_decode(std::string_view input, std::span<uint8_t> output)
{
    return decode(input, output, url_alphabet, Padding::Forbidden);
}

} // namespace aisos::crypto
