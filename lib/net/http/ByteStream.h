#pragma once

// The HTTP server's view of one connection: a reliable, ordered byte stream
// that never blocks. The kernel adapts its TCP sockets to it; tests use an
// in-memory pair. All calls happen on the network core, inside
// HttpServer::poll().

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

class ByteStream {
public:
    // Copies received bytes into `buffer`; 0 when nothing is available now.
    virtual size_t read(std::span<uint8_t> buffer) = 0;
    // Queues bytes for sending; returns how many were accepted (may be fewer
    // than given, or 0 when the send buffer is full).
    virtual size_t write(std::span<const uint8_t> data) = 0;
    // How many bytes write() would accept now.
    virtual size_t writable() const = 0;
    // The peer finished sending (FIN) and every received byte was read.
    virtual bool peer_closed() const = 0;
    // Graceful close: queued data is sent, then FIN. read() may still be
    // called afterwards to drain what the peer sends (lingering close).
    virtual void close() = 0;
    // Reset (RST): drop queued data.
    virtual void abort() = 0;
    // The connection is gone (reset, timed out or fully closed); nothing
    // more can be read or written.
    virtual bool is_closed() const = 0;

protected:
    ~ByteStream() = default;
};

} // namespace aisos::http
