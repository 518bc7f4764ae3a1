#include "lib/net/TcpListener.h"

#include "lib/net/TcpSocket.h"

namespace aisos::net {

TcpSocket* TcpListener::accept()
{
    TcpSocket* socket = m_accept_head;
    if (!socket)
        return nullptr;
    m_accept_head = socket->m_accept_next;
    if (!m_accept_head)
        m_accept_tail = nullptr;
    --m_accept_length;
    socket->m_accept_next = nullptr;
    socket->m_listener = nullptr;
    socket->m_queued = false;
    socket->m_accepted = true;
    return socket;
}

void TcpListener::enqueue(TcpSocket& socket)
{
    // Leaves the half-open set for the accept queue.
    --m_half_open;
    socket.m_queued = true;
    socket.m_accept_next = nullptr;
    if (m_accept_tail)
        m_accept_tail->m_accept_next = &socket;
    else
        m_accept_head = &socket;
    m_accept_tail = &socket;
    ++m_accept_length;
}

void TcpListener::unlink(TcpSocket& socket)
{
    if (!socket.m_queued) {
        --m_half_open;
    } else {
        TcpSocket* previous = nullptr;
        for (TcpSocket* entry = m_accept_head; entry; previous = entry, entry = entry->m_accept_next) {
            if (entry != &socket)
                continue;
            if (previous)
                previous->m_accept_next = entry->m_accept_next;
            else
                m_accept_head = entry->m_accept_next;
            if (m_accept_tail == entry)
                m_accept_tail = previous;
            --m_accept_length;
            break;
        }
        socket.m_queued = false;
    }
    socket.m_accept_next = nullptr;
    socket.m_listener = nullptr;
}

} // namespace aisos::net
