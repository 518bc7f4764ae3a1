#include "lib/net/http/ChunkedDecoder.h"
#include "lib/net/http/HttpSyntax.h"

namespace aisos::http {

ChunkedDecoder::Step ChunkedDecoder::fail(const char* reason, size_t consumed)
{
    m_state = State::Failed;
    m_error = reason;
    return { Status::Error, consumed, 0 };
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ChunkedDecoder::Step ChunkedDecoder::advance(std::span<const uint8_t> input)
{
    size_t i = 0;
    while (true) {
        if (m_state == State::Failed)
            return { Status::Error, i, 0 };
        if (m_state == State::Done)
            return { Status::Done, i, 0 };
        if (m_state == State::Data) {
            if (m_chunk_remaining == 0) {
                m_state = State::DataCarriageReturn;
                continue;
            }
            if (i == input.size())
                return { Status::NeedMore, i, 0 };
            uint64_t available = input.size() - i;
            uint64_t length = available < m_chunk_remaining ? available : m_chunk_remaining;
            return { Status::Data, i, size_t(length) };
        }
        if (i == input.size())
            return { Status::NeedMore, i, 0 };
        uint8_t c = input[i++];
        switch (m_state) {
        case State::SizeStart:
            m_chunk_size = 0;
            m_size_digits = 0;
            m_line_length = 0;
            m_state = State::Size;
            [[fallthrough]];
        case State::Size: {
            ++m_line_length;
            int digit = hex_digit(c);
            if (digit >= 0) {
                if (m_size_digits == 16 || (m_chunk_size >> 60) != 0)
                    return fail("chunk size too large", i);
                m_chunk_size = m_chunk_size * 16 + uint64_t(digit);
                ++m_size_digits;
                break;
            }
            if (m_size_digits == 0)
                return fail("invalid chunk size", i);
            if (c == '\r') {
                m_state = State::SizeLineFeed;
            } else if (c == ';' || c == ' ' || c == '\t') {
                // chunk-ext, after optional whitespace (BWS): skipped.
                m_state = State::Extension;
            } else {
                return fail("invalid chunk size", i);
            }
            break;
        }
        case State::Extension:
            if (++m_line_length > m_max_line)
                return fail("chunk extension too long", i);
            if (c == '\r')
                m_state = State::SizeLineFeed;
            else if (!is_field_value_char(c))
                return fail("control character in chunk extension", i);
            break;
        case State::SizeLineFeed:
            if (c != '\n')
                return fail("chunk size line not ended by CRLF", i);
            if (m_chunk_size == 0) {
                m_state = State::TrailerLineStart;
            } else {
                m_chunk_remaining = m_chunk_size;
                m_state = State::Data;
            }
            break;
        case State::DataCarriageReturn:
            if (c != '\r')
                return fail("chunk data not followed by CRLF", i);
            m_state = State::DataLineFeed;
            break;
        case State::DataLineFeed:
            if (c != '\n')
                return fail("chunk data not followed by CRLF", i);
            m_state = State::SizeStart;
            break;
        case State::TrailerLineStart:
            if (c == '\r') {
                m_state = State::FinalLineFeed;
                break;
            }
            if (c == ' ' || c == '\t')
                return fail("obs-fold in trailer", i);
            if (!is_token_char(c))
                return fail("invalid trailer field name", i);
            m_state = State::TrailerName;
            if (++m_trailer_bytes > m_max_trailer_bytes)
                return fail("trailer section too large", i);
            break;
        case State::TrailerName:
            if (++m_trailer_bytes > m_max_trailer_bytes)
                return fail("trailer section too large", i);
            if (c == ':')
                m_state = State::TrailerValue;
            else if (!is_token_char(c))
                return fail("invalid trailer field name", i);
            break;
        case State::TrailerValue:
            if (++m_trailer_bytes > m_max_trailer_bytes)
                return fail("trailer section too large", i);
            if (c == '\r')
                m_state = State::TrailerLineFeed;
            else if (!is_field_value_char(c))
                return fail("control character in trailer", i);
            break;
        case State::TrailerLineFeed:
            if (c != '\n')
                return fail("trailer line not ended by CRLF", i);
            m_state = State::TrailerLineStart;
            break;
        case State::FinalLineFeed:
            if (c != '\n')
                return fail("chunked body not ended by CRLF", i);
            m_state = State::Done;
            return { Status::Done, i, 0 };
        case State::Data:
        case State::Done:
        case State::Failed:
            break;
        }
    }
}

} // namespace aisos::http
