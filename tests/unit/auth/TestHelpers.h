#pragma once

// Shared helpers for the auth tests: hex conversion and fake time/entropy.

#include "lib/auth/Clock.h"
#include "lib/crypto/EntropySource.h"

#include <cstdint>
#include <string>
#include <vector>

namespace aisos::auth::test {

inline std::vector<uint8_t> from_hex(std::string_view hex)
{
    std::vector<uint8_t> bytes;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    int high = -1;
    for (char c : hex) {
        int value = nibble(c);
        if (value < 0)
            continue; // spaces and separators in pasted vectors
        if (high < 0) {
            high = value;
        } else {
            bytes.push_back(uint8_t(high << 4 | value));
            high = -1;
        }
    }
    return bytes;
}

template<typename Container>
std::string to_hex(const Container& bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (uint8_t byte : bytes) {
        text += digits[byte >> 4];
        text += digits[byte & 15];
    }
    return text;
}

// prefix + decimal i, built with += (GCC 12 at -O3 warns falsely on "x" + std::to_string(i)).
inline std::string numbered(std::string_view prefix, size_t i)
{
    std::string text(prefix);
    text += std::to_string(i);
    return text;
}

inline std::span<const uint8_t> as_bytes(std::string_view text) { return { reinterpret_cast<const uint8_t*>(text.data()), text.size() }; }

// Deterministic "hardware" entropy: a xorshift stream (passes the health tests).
class FakeEntropy final : public crypto::EntropySource {
public:
    explicit FakeEntropy(uint64_t seed = 0x9e3779b97f4a7c15ull)
        : m_state(seed)
    {
    }
    ErrorOr<void> read(std::span<uint8_t> out) override
    {
        ++reads;
        if (broken)
            return Error { ErrorCode::IoError, "rdseed failed" };
        for (auto& byte : out) {
            if (stuck) {
                byte = 0x42;
                continue;
            }
            m_state ^= m_state << 13;
            m_state ^= m_state >> 7;
            m_state ^= m_state << 17;
            byte = uint8_t(m_state >> 24);
        }
        bytes_read += out.size();
        return {};
    }
    bool broken { false };
    bool stuck { false };
    uint64_t reads { 0 };
    uint64_t bytes_read { 0 };

private:
    uint64_t m_state;
};

class FakeClock final : public Clock {
public:
    explicit FakeClock(uint64_t start = 1'800'000'000)
        : now(start)
    {
    }
    uint64_t now_unix_seconds() override { return now; }
    uint64_t now;
};

} // namespace aisos::auth::test
