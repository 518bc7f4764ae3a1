#pragma once

// A TCP connection as the HTTP server's ByteStream.

#include "lib/net/TcpSocket.h"
#include "lib/net/http/ByteStream.h"

namespace aisos {

class TcpByteStream final : public http::ByteStream {
public:
    explicit TcpByteStream(net::TcpSocket& socket)
        : m_socket(socket)
    {
    }
    size_t read(std::span<uint8_t> buffer) override { return m_socket.receive(buffer); }
    size_t write(std::span<const uint8_t> data) override { return m_socket.send(data); }
    size_t writable() const override { return m_socket.send_space(); }
    bool peer_closed() const override { return m_socket.peer_closed(); }
    void close() override { m_socket.close(); }
    void abort() override { m_socket.abort(); }
    bool is_closed() const override { return m_socket.is_closed(); }
    net::TcpSocket& socket() { return m_socket; }

private:
    net::TcpSocket& m_socket;
};

} // namespace aisos
