#pragma once

// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1) for
// request bodies. It walks the framing byte by byte but never copies data:
// it reports where the next run of chunk data lies in the caller's buffer,
// and the caller (after handing that data on) says how much it used.
//
// Strict: chunk sizes are 1..16 hex digits without overflow, lines end in
// CRLF (a bare LF or CR is an error), chunk extensions are skipped but must
// be printable and fit max_line, data is followed by CRLF, trailer fields
// are checked like header fields (token name, no control characters, no
// obs-fold) and bounded by max_trailer_bytes; then they are discarded.

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

class ChunkedDecoder {
public:
    ChunkedDecoder(size_t max_line = 4096, size_t max_trailer_bytes = 8192)
        : m_max_line(max_line)
        , m_max_trailer_bytes(max_trailer_bytes)
    {
    }

    enum class Status : uint8_t {
        NeedMore, // all input consumed as framing; feed more
        Data,     // data_length bytes of chunk data start at input[consumed]
        Done,     // body complete, `consumed` bytes used (the rest is the next request)
        Error,
    };
    struct Step {
        Status status;
        size_t consumed; // framing bytes consumed from the start of input
        size_t data_length;
    };

    // Consumes framing from the start of input until data, the end of the
    // body or the end of input. After Data, call consume_data(n) with the
    // n (<= data_length) data bytes used, then advance() again with the
    // input that follows them.
    Step advance(std::span<const uint8_t> input);
    void consume_data(size_t count)
    {
        m_chunk_remaining -= count;
        m_data_total += count;
    }

    bool done() const { return m_state == State::Done; }
    bool failed() const { return m_state == State::Failed; }
    const char* error() const { return m_error; }
    uint64_t data_total() const { return m_data_total; }

private:
    enum class State : uint8_t {
        SizeStart,
        Size,
        Extension,
        SizeLineFeed,
        Data,
        DataCarriageReturn,
        DataLineFeed,
        TrailerLineStart,
        TrailerName,
        TrailerValue,
        TrailerLineFeed,
        FinalLineFeed,
        Done,
        Failed,
    };
    Step fail(const char* reason, size_t consumed);

    size_t m_max_line;
    size_t m_max_trailer_bytes;
    State m_state { State::SizeStart };
    uint64_t m_chunk_size { 0 };
    uint64_t m_chunk_remaining { 0 };
    uint64_t m_data_total { 0 };
    size_t m_line_length { 0 };
    size_t m_size_digits { 0 };
    size_t m_trailer_bytes { 0 };
    const char* m_error { nullptr };
};

} // namespace aisos::http
