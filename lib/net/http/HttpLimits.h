#pragma once

// Limits and timeouts of the HTTP server. Every one bounds what a client
// can make the server hold or wait for.

#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

inline constexpr uint64_t nanoseconds_per_second = 1000000000ull;

struct HttpLimits {
    size_t max_request_line { 8 * 1024 };    // 414 beyond
    size_t max_header_bytes { 64 * 1024 };   // field lines in total; 431 beyond
    size_t max_header_fields { 100 };        // 431 beyond
    size_t max_trailer_bytes { 8 * 1024 };   // chunked trailers; 400 beyond
    size_t max_chunk_line { 4 * 1024 };      // chunk-size line with extensions; 400 beyond
    uint64_t default_body_limit { 1024 * 1024 }; // routes that do not set one; 413 beyond
    size_t max_connections { 256 };
    size_t input_buffer_size { 16 * 1024 };  // grows up to what the head limits need
    size_t output_buffer_size { 16 * 1024 };

    uint64_t header_timeout_ns { 10 * nanoseconds_per_second };    // first byte to end of head
    uint64_t body_timeout_ns { 30 * nanoseconds_per_second };      // without a byte of body
    uint64_t idle_timeout_ns { 60 * nanoseconds_per_second };      // keep-alive, between requests
    uint64_t send_timeout_ns { 30 * nanoseconds_per_second };      // client not reading our output
    uint64_t linger_timeout_ns { 2 * nanoseconds_per_second };     // draining after a close
    uint64_t websocket_idle_timeout_ns { 600 * nanoseconds_per_second };
    uint64_t websocket_close_timeout_ns { 5 * nanoseconds_per_second };

    size_t websocket_max_message { 1024 * 1024 }; // 1009 beyond
    size_t websocket_max_send_queue { 4 * 1024 * 1024 };
};

} // namespace aisos::http
