#pragma once

// A passive open on one port (RFC 9293 LISTEN). Connections that complete
// the handshake wait in the accept queue until the owner takes them.

#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class Stack;
class TcpSocket;

class TcpListener {
public:
    // The next established connection, or nullptr when none is waiting.
    // The caller owns the handle until it calls TcpSocket::release().
    TcpSocket* accept();
    uint16_t port() const { return m_port; }
    size_t pending() const { return m_accept_length; }
    size_t half_open() const { return m_half_open; }

private:
    friend class Stack;
    friend class TcpSocket;
    TcpListener(Stack& stack, uint16_t port, size_t backlog)
        : m_stack(stack)
        , m_port(port)
        , m_backlog(backlog)
    {
    }
    void enqueue(TcpSocket&);
    void unlink(TcpSocket&);

    Stack& m_stack;
    uint16_t m_port;
    size_t m_backlog; // accept queue limit
    size_t m_half_open { 0 }; // connections in SYN-RECEIVED
    TcpSocket* m_accept_head { nullptr };
    TcpSocket* m_accept_tail { nullptr };
    size_t m_accept_length { 0 };
    TcpListener* m_next { nullptr };
};

} // namespace aisos::net
