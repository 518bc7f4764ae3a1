#include "lib/net/http/HttpServer.h"
#include "lib/net/http/ChunkedDecoder.h"
#include "lib/net/http/HttpDate.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpResponse.h"
#include "lib/net/http/OutputQueue.h"
#include "lib/net/http/WebSocket.h"

namespace aisos::http {

struct HttpServer::Connection {
    enum class State : uint8_t { Head, Body, Respond, WebSocket, Closing, Dead };

    Connection(Allocator& allocator, const HttpLimits& limits, uint8_t* output_buffer, HttpHeader* headers, uint8_t* input_buffer)
        : input(input_buffer)
        , input_capacity(limits.input_buffer_size)
        , output(allocator, output_buffer, limits.output_buffer_size, limits.websocket_max_send_queue)
        , response(allocator, output)
        , scanner(limits)
        , header_storage(headers)
        , chunked(limits.max_chunk_line, limits.max_trailer_bytes)
        , websocket(allocator, output, limits)
    {
    }

    Connection* next { nullptr };
    ByteStream* stream { nullptr };
    ClientInfo client;
    State state { State::Head };

    uint8_t* input;
    size_t input_capacity;
    size_t input_used { 0 };
    size_t head_end { 0 };      // the current request head occupies [0, head_end)
    size_t body_position { 0 }; // first byte not yet consumed after the head

    OutputQueue output;
    HttpResponse response;
    RequestHeadScanner scanner;
    HttpHeader* header_storage;
    HttpRequest request;
    HttpHandler* handler { nullptr };

    uint64_t body_limit { 0 };
    uint64_t body_remaining { 0 };
    uint64_t body_received { 0 };
    bool body_done { true };
    ChunkedDecoder chunked;

    WebSocket websocket;
    WebSocketSession* session { nullptr };

    uint64_t idle_since { 0 };
    uint64_t head_started { 0 };
    uint64_t last_receive { 0 };
    uint64_t output_progress { 0 };
    uint64_t closing_since { 0 };
    uint64_t websocket_close_started { 0 };
    bool close_called { false };
    bool mid_request { false };
    bool timers_started { false }; // accept() may come before the first poll() gives a time
};

HttpServer::HttpServer(Allocator& allocator, Router& router, const HttpLimits& limits)
    : m_allocator(allocator)
    , m_router(router)
    , m_limits(limits)
{
    // A head is the request line, the field lines and a few ignored empty
    // lines before it; the scanner refuses anything longer (414/431).
    m_max_head_size = m_limits.max_request_line + 2 + m_limits.max_header_bytes + 2 + 16 + 64;
    if (m_limits.output_buffer_size < HttpResponse::max_head_size + 1024)
        m_limits.output_buffer_size = HttpResponse::max_head_size + 1024;
    if (m_limits.input_buffer_size < 1024)
        m_limits.input_buffer_size = 1024;
    if (m_limits.max_header_fields == 0)
        m_limits.max_header_fields = 1;
    set_wall_clock(0);
}

HttpServer::~HttpServer()
{
    while (m_connections) {
        auto* connection = m_connections;
        if (connection->state != Connection::State::Dead) {
            connection->stream->abort();
            destroy_handler(*connection, true);
            end_websocket(*connection);
        }
        m_connections = connection->next;
        release(*connection);
    }
}

void HttpServer::set_wall_clock(uint64_t unix_seconds)
{
    m_wall_clock = unix_seconds;
}

std::string_view HttpServer::date()
{
    if (m_date_second != m_wall_clock) {
        char buffer[http_date_length + 1];
        format_http_date(m_wall_clock, buffer);
        __builtin_memcpy(m_date, buffer, sizeof(buffer));
        m_date_second = m_wall_clock;
    }
    return { m_date, http_date_length };
}

ErrorOr<void> HttpServer::accept(ByteStream* stream, ClientInfo client)
{
    if (!stream)
        return Error::invalid("no stream");
    if (m_connection_count >= m_limits.max_connections) {
        ++m_counters.connections_rejected;
        return Error { ErrorCode::Busy, "too many connections" };
    }
    size_t output_size = m_limits.output_buffer_size;
    size_t headers_size = sizeof(HttpHeader) * m_limits.max_header_fields;
    auto block = m_allocator.allocate(output_size + headers_size, 16);
    if (block.is_error()) {
        ++m_counters.connections_rejected;
        return block.error();
    }
    auto* output = static_cast<uint8_t*>(block.value());
    auto input = m_allocator.allocate(m_limits.input_buffer_size, 16);
    if (input.is_error()) {
        m_allocator.free(output);
        ++m_counters.connections_rejected;
        return input.error();
    }
    auto* headers = reinterpret_cast<HttpHeader*>(output + output_size);
    auto connection = m_allocator.create<Connection>(m_allocator, m_limits, output, headers, static_cast<uint8_t*>(input.value()));
    if (connection.is_error()) {
        m_allocator.free(input.value());
        m_allocator.free(output);
        ++m_counters.connections_rejected;
        return connection.error();
    }
    auto* c = connection.value();
    c->stream = stream;
    c->client = client;
    c->output.set_stream(stream);
    c->next = m_connections;
    m_connections = c;
    ++m_connection_count;
    ++m_counters.connections_accepted;
    m_counters.connections_active = m_connection_count;
    return {};
}

void HttpServer::poll(uint64_t now_ns)
{
    m_now = now_ns;
    Connection** link = &m_connections;
    while (*link) {
        auto& connection = **link;
        // Bounded work per connection per poll keeps the others served.
        for (int round = 0; round < 32; ++round) {
            if (!step(connection))
                break;
        }
        if (connection.state != Connection::State::Dead)
            flush(connection);
        if (connection.state == Connection::State::Dead) {
            *link = connection.next;
            release(connection);
            continue;
        }
        link = &connection.next;
    }
}

void HttpServer::release(Connection& connection)
{
    auto* stream = connection.stream;
    --m_connection_count;
    m_counters.connections_active = m_connection_count;
    uint8_t* input = connection.input;
    // The output buffer and header storage share one block, starting at the output buffer.
    void* output_block = connection.header_storage ? reinterpret_cast<uint8_t*>(connection.header_storage) - m_limits.output_buffer_size : nullptr;
    connection.response.reset();
    connection.output.clear();
    connection.websocket.reset();
    m_allocator.destroy(&connection);
    m_allocator.free(input);
    m_allocator.free(output_block);
    if (m_release)
        m_release(m_release_context, stream);
}

size_t HttpServer::read_into(Connection& connection, uint8_t* buffer, size_t capacity)
{
    if (capacity == 0)
        return 0;
    size_t count = connection.stream->read({ buffer, capacity });
    if (count > capacity)
        count = capacity; // a misbehaving stream never makes us overrun
    m_counters.bytes_received += count;
    return count;
}

void HttpServer::flush(Connection& connection)
{
    size_t written = connection.output.flush();
    m_counters.bytes_sent += written;
    if (written > 0 || connection.output.empty())
        connection.output_progress = m_now;
}

void HttpServer::count_response(uint16_t status)
{
    ++m_counters.responses;
    if (status / 100 < 6)
        ++m_counters.responses_by_class[status / 100];
    if (status < 600)
        ++m_counters.responses_by_status[status];
}

void HttpServer::destroy_handler(Connection& connection, bool aborted)
{
    if (!connection.handler)
        return;
    if (aborted)
        connection.handler->on_abort();
    m_allocator.destroy(connection.handler);
    connection.handler = nullptr;
}

void HttpServer::end_websocket(Connection& connection)
{
    if (!connection.session)
        return;
    uint16_t code = connection.websocket.state() == WebSocket::State::Closed && !connection.websocket.needs_abort()
        ? connection.websocket.close_code_value()
        : close_code::abnormal;
    connection.session->on_close(code);
    m_allocator.destroy(connection.session);
    connection.session = nullptr;
    m_counters.websocket_messages_received += connection.websocket.messages_received();
    connection.websocket.reset();
    --m_counters.websocket_active;
}

void HttpServer::abort_connection(Connection& connection)
{
    if (connection.state == Connection::State::Dead)
        return;
    connection.stream->abort();
    if (connection.mid_request || connection.handler)
        ++m_counters.aborted_connections;
    destroy_handler(connection, true);
    end_websocket(connection);
    connection.state = Connection::State::Dead;
}

void HttpServer::begin_close(Connection& connection)
{
    destroy_handler(connection, !connection.response.finished());
    end_websocket(connection);
    connection.state = Connection::State::Closing;
    connection.closing_since = m_now;
    connection.close_called = false;
    connection.mid_request = false;
}

void HttpServer::respond_error(Connection& connection, uint16_t status, std::string_view message)
{
    auto& response = connection.response;
    if (response.started()) {
        // Too late for an error response: only closing tells the client.
        abort_connection(connection);
        return;
    }
    destroy_handler(connection, true);
    response.send_error(status, message);
    if (response.failed()) {
        abort_connection(connection);
        return;
    }
    connection.state = Connection::State::Respond;
}

bool HttpServer::step(Connection& connection)
{
    if (connection.state == Connection::State::Dead)
        return false;
    if (!connection.timers_started) {
        connection.idle_since = m_now;
        connection.head_started = m_now;
        connection.output_progress = m_now;
        connection.timers_started = true;
    }
    if (connection.stream->is_closed()) {
        // Reset by the peer or the TCP layer gave up: nothing can be sent any more.
        if (connection.mid_request || connection.handler)
            ++m_counters.aborted_connections;
        destroy_handler(connection, true);
        end_websocket(connection);
        connection.state = Connection::State::Dead;
        return false;
    }
    flush(connection);
    switch (connection.state) {
    case Connection::State::Head:
        return step_head(connection);
    case Connection::State::Body:
        return step_body(connection);
    case Connection::State::Respond:
        return step_respond(connection);
    case Connection::State::WebSocket:
        return step_websocket(connection);
    case Connection::State::Closing:
        return step_closing(connection);
    case Connection::State::Dead:
        break;
    }
    return false;
}

bool HttpServer::step_head(Connection& c)
{
    // Pipelined requests wait until most of the previous response is out.
    if (c.output.used() > c.output.capacity() / 2) {
        if (m_now - c.output_progress > m_limits.send_timeout_ns) {
            ++m_counters.timeouts_send;
            abort_connection(c);
        }
        return false;
    }
    auto scan = c.scanner.scan({ c.input, c.input_used });
    if (scan.kind == HeadScan::Kind::Error) {
        ++m_counters.requests;
        ++m_counters.bad_requests;
        c.mid_request = true;
        c.response.begin_request({ HttpMethod::Get, HttpVersion::Http11, false, date(), m_server_name });
        c.response.close_connection();
        respond_error(c, scan.error.status, scan.error.reason);
        c.body_done = false;
        return true;
    }
    if (scan.kind == HeadScan::Kind::Complete) {
        process_head(c, scan.skipped, scan.head_length);
        return true;
    }
    // Need more bytes.
    if (c.input_used == c.input_capacity) {
        if (c.input_capacity >= m_max_head_size) {
            c.response.begin_request({ HttpMethod::Get, HttpVersion::Http11, false, date(), m_server_name });
            respond_error(c, 431, "request head too large");
            return true;
        }
        size_t capacity = m_max_head_size + 4096;
        auto grown = m_allocator.allocate(capacity, 16);
        if (grown.is_error()) {
            abort_connection(c);
            return false;
        }
        auto* buffer = static_cast<uint8_t*>(grown.value());
        __builtin_memcpy(buffer, c.input, c.input_used);
        m_allocator.free(c.input);
        c.input = buffer;
        c.input_capacity = capacity;
    }
    bool was_empty = c.input_used == 0;
    size_t count = read_into(c, c.input + c.input_used, c.input_capacity - c.input_used);
    if (count > 0) {
        c.input_used += count;
        if (was_empty)
            c.head_started = m_now;
        c.mid_request = true;
        return true;
    }
    if (c.stream->peer_closed()) {
        c.mid_request = false; // a partial head from a client that left needs no answer
        begin_close(c);
        return true;
    }
    if (c.input_used == 0) {
        c.mid_request = false;
        if (m_now - c.idle_since > m_limits.idle_timeout_ns) {
            ++m_counters.timeouts_idle;
            begin_close(c);
            return true;
        }
    } else if (m_now - c.head_started > m_limits.header_timeout_ns) {
        ++m_counters.timeouts_header;
        ++m_counters.requests;
        c.response.begin_request({ HttpMethod::Get, HttpVersion::Http11, false, date(), m_server_name });
        c.response.close_connection();
        respond_error(c, 408, "request head not received in time");
        c.body_done = false;
        return true;
    }
    return false;
}

void HttpServer::process_head(Connection& c, size_t skipped, size_t head_length)
{
    ++m_counters.requests;
    c.mid_request = true;
    c.request = HttpRequest {};
    c.request.client = c.client;
    c.head_end = head_length;
    c.body_position = head_length;
    c.body_done = true;
    auto& response = c.response;
    response.begin_request({ HttpMethod::Get, HttpVersion::Http11, true, date(), m_server_name });

    auto parsed = parse_request_head({ c.input + skipped, head_length - skipped }, { c.header_storage, m_limits.max_header_fields }, m_limits, c.request);
    if (!parsed.ok()) {
        ++m_counters.bad_requests;
        c.body_done = false;
        response.close_connection();
        respond_error(c, parsed.status, parsed.reason);
        return;
    }
    auto& request = c.request;
    response.set_context({ request.method, request.version, request.keep_alive, date(), m_server_name });
    c.body_done = !request.has_body();
    response.set_body_unread(!c.body_done);

    auto match = m_router.match(request);
    if (match.kind != RouteMatch::Kind::Found) {
        bool options = request.method == HttpMethod::Options;
        if (options && request.path == "*")
            match.allowed_methods = (1u << http_method_count) - 1;
        if (options && match.allowed_methods) {
            char allow[64];
            (void)response.header("Allow", Router::format_allow(match.allowed_methods, allow));
            response.send_empty(204);
            c.state = Connection::State::Respond;
            return;
        }
        if (match.kind == RouteMatch::Kind::MethodNotAllowed) {
            char allow[64];
            (void)response.header("Allow", Router::format_allow(match.allowed_methods, allow));
            respond_error(c, 405, "method not allowed for this resource");
            return;
        }
        respond_error(c, 404, "not found");
        return;
    }
    const Route& route = *match.route;

    // Authentication before anything of the route runs.
    AuthResult identity;
    if (m_authenticator)
        identity = m_authenticator->authenticate(request.header("authorization").value_or(std::string_view {}), request.header("sec-websocket-protocol").value_or(std::string_view {}));
    if (identity.kind == AuthResult::Kind::Invalid && route.options.role == Role::Public)
        identity = AuthResult::anonymous();
    if (!role_allows(identity, route.options.role)) {
        if (identity.kind == AuthResult::Kind::User) {
            respond_error(c, 403, "insufficient role");
        } else {
            (void)response.header("WWW-Authenticate", "Bearer");
            respond_error(c, 401, identity.kind == AuthResult::Kind::Invalid ? "invalid token" : "authentication required");
        }
        return;
    }
    request.identity = identity;

    c.body_limit = route.options.body_limit == default_body_limit ? m_limits.default_body_limit : route.options.body_limit;
    if (request.body_framing == BodyFraming::ContentLength && request.content_length > c.body_limit) {
        respond_error(c, 413, "request body too large");
        return;
    }

    if (route.websocket) {
        start_websocket(c, route);
        return;
    }

    // The body is streamed through the space after the head; make sure there is some.
    if (!c.body_done && c.input_capacity - c.head_end < 4096) {
        size_t capacity = c.head_end + 16 * 1024;
        auto grown = m_allocator.allocate(capacity, 16);
        if (grown.is_error()) {
            respond_error(c, 503, "out of memory");
            return;
        }
        auto* buffer = static_cast<uint8_t*>(grown.value());
        __builtin_memcpy(buffer, c.input, c.input_used);
        // Views in the request point into the old buffer: rebase them.
        auto rebase = [&](std::string_view& view) {
            if (view.data() >= reinterpret_cast<const char*>(c.input) && view.data() <= reinterpret_cast<const char*>(c.input + c.input_used))
                view = { reinterpret_cast<const char*>(buffer) + (view.data() - reinterpret_cast<const char*>(c.input)), view.size() };
        };
        rebase(request.target);
        rebase(request.path);
        rebase(request.query);
        for (size_t i = 0; i < request.headers.size(); ++i) {
            rebase(c.header_storage[i].name);
            rebase(c.header_storage[i].value);
        }
        for (size_t i = 0; i < request.parameter_count; ++i) {
            rebase(request.parameters[i].name);
            rebase(request.parameters[i].value);
        }
        m_allocator.free(c.input);
        c.input = buffer;
        c.input_capacity = capacity;
    }

    auto handler = route.handler->create(m_allocator, request);
    if (handler.is_error()) {
        respond_error(c, 503, "out of memory");
        return;
    }
    c.handler = handler.value();
    c.body_remaining = request.content_length;
    c.body_received = 0;
    c.chunked = ChunkedDecoder(m_limits.max_chunk_line, m_limits.max_trailer_bytes);
    c.last_receive = m_now;

    c.handler->on_request(request, response);
    if (response.started()) {
        c.state = Connection::State::Respond;
        return;
    }
    if (!c.body_done) {
        if (request.expect_continue) {
            // The handler wants the body (it did not answer): invite it.
            c.output.append(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
            count_response(100);
        }
        c.state = Connection::State::Body;
        return;
    }
    response.set_body_unread(false);
    c.handler->on_body_end(request, response);
    c.state = Connection::State::Respond;
}

void HttpServer::start_websocket(Connection& c, const Route& route)
{
    auto& request = c.request;
    auto& response = c.response;
    if (!request.upgrade_websocket) {
        (void)response.header("Upgrade", "websocket");
        respond_error(c, 426, "this resource needs a WebSocket upgrade");
        return;
    }
    if (request.header("sec-websocket-version").value_or(std::string_view {}) != "13") {
        (void)response.header("Sec-WebSocket-Version", "13");
        respond_error(c, 426, "unsupported WebSocket version");
        return;
    }
    char accept_buffer[websocket_accept_length + 1];
    auto accept = websocket_accept_key(request.header("sec-websocket-key").value_or(std::string_view {}), accept_buffer);
    if (accept.is_error() || request.header_count("sec-websocket-key") != 1) {
        respond_error(c, 400, "invalid Sec-WebSocket-Key");
        return;
    }
    if (request.has_body()) {
        respond_error(c, 400, "WebSocket upgrade with a body");
        return;
    }
    auto session = route.websocket->create(m_allocator, request);
    if (session.is_error()) {
        respond_error(c, 503, "out of memory");
        return;
    }
    (void)response.header("Sec-WebSocket-Accept", accept.value());
    if (!request.identity.websocket_protocol.empty())
        (void)response.header("Sec-WebSocket-Protocol", request.identity.websocket_protocol);
    if (response.start_switching_protocols().is_error()) {
        m_allocator.destroy(session.value());
        abort_connection(c);
        return;
    }
    count_response(101);
    ++m_counters.websocket_upgrades;
    ++m_counters.websocket_active;
    // Frames that arrived right after the head are the session's.
    size_t leftover = c.input_used - c.head_end;
    __builtin_memmove(c.input, c.input + c.head_end, leftover);
    c.input_used = leftover;
    c.head_end = 0;
    c.body_position = 0;
    c.session = session.value();
    c.websocket.reset();
    c.state = Connection::State::WebSocket;
    c.last_receive = m_now;
    c.websocket_close_started = 0;
    c.mid_request = false;
    c.session->on_open(c.websocket);
}

bool HttpServer::step_body(Connection& c)
{
    auto& request = c.request;
    auto& response = c.response;
    if (response.started()) {
        // The handler answered before the whole body: the rest is never read.
        c.state = Connection::State::Respond;
        return true;
    }
    bool progress = false;
    bool stalled = false;
    while (!c.body_done && !stalled) {
        if (request.body_framing == BodyFraming::ContentLength) {
            size_t buffered = c.input_used - c.body_position;
            size_t available = c.body_remaining < buffered ? size_t(c.body_remaining) : buffered;
            if (available == 0)
                break;
            size_t taken = c.handler->on_body({ c.input + c.body_position, available }, response);
            if (taken > available)
                taken = available;
            c.body_position += taken;
            c.body_remaining -= taken;
            c.body_received += taken;
            if (taken > 0) {
                progress = true;
                c.last_receive = m_now;
            }
            if (taken < available)
                stalled = true;
            if (c.body_remaining == 0)
                c.body_done = true;
        } else {
            auto step = c.chunked.advance({ c.input + c.body_position, c.input_used - c.body_position });
            c.body_position += step.consumed;
            if (step.consumed > 0)
                progress = true;
            if (step.status == ChunkedDecoder::Status::Error) {
                ++m_counters.bad_requests;
                respond_error(c, 400, c.chunked.error());
                return true;
            }
            if (step.status == ChunkedDecoder::Status::Done) {
                c.body_done = true;
                break;
            }
            if (step.status == ChunkedDecoder::Status::NeedMore)
                break;
            if (step.data_length > c.body_limit - c.body_received) {
                respond_error(c, 413, "request body too large");
                return true;
            }
            size_t taken = c.handler->on_body({ c.input + c.body_position, step.data_length }, response);
            if (taken > step.data_length)
                taken = step.data_length;
            c.chunked.consume_data(taken);
            c.body_position += taken;
            c.body_received += taken;
            if (taken > 0) {
                progress = true;
                c.last_receive = m_now;
            }
            if (taken < step.data_length)
                stalled = true;
        }
        if (response.started()) {
            c.state = Connection::State::Respond;
            return true;
        }
    }
    if (c.body_done) {
        response.set_body_unread(false);
        c.handler->on_body_end(request, response);
        c.state = Connection::State::Respond;
        return true;
    }
    if (stalled) {
        // Backpressure: nothing is read until the handler takes the rest.
        c.last_receive = m_now;
        return progress;
    }
    // Everything buffered was consumed: reuse the space after the head.
    if (c.body_position == c.input_used) {
        c.input_used = c.head_end;
        c.body_position = c.head_end;
    } else if (c.input_capacity - c.input_used < (c.input_capacity - c.head_end) / 2) {
        size_t rest = c.input_used - c.body_position;
        __builtin_memmove(c.input + c.head_end, c.input + c.body_position, rest);
        c.body_position = c.head_end;
        c.input_used = c.head_end + rest;
    }
    size_t count = read_into(c, c.input + c.input_used, c.input_capacity - c.input_used);
    if (count > 0) {
        c.input_used += count;
        c.last_receive = m_now;
        return true;
    }
    if (c.stream->peer_closed()) {
        // The client stopped sending mid-body: no complete request to answer.
        ++m_counters.aborted_connections;
        destroy_handler(c, true);
        c.mid_request = false;
        begin_close(c);
        return true;
    }
    if (m_now - c.last_receive > m_limits.body_timeout_ns) {
        ++m_counters.timeouts_body;
        respond_error(c, 408, "request body not received in time");
        return true;
    }
    return progress;
}

bool HttpServer::step_respond(Connection& c)
{
    auto& response = c.response;
    bool progress = false;
    if (!response.finished()) {
        uint64_t before = response.body_bytes();
        size_t used_before = c.output.used();
        if (c.handler) {
            if (!response.started()) {
                c.handler->on_poll(c.request, response);
            } else if (!response.pump() && response.writable() > 0) {
                c.handler->on_poll(c.request, response);
            }
        } else {
            response.pump();
        }
        if (response.failed()) {
            abort_connection(c);
            return false;
        }
        progress = response.body_bytes() != before || c.output.used() != used_before || response.finished();
    }
    if (response.finished()) {
        finish_request(c);
        return true;
    }
    if (!c.output.empty() && m_now - c.output_progress > m_limits.send_timeout_ns) {
        ++m_counters.timeouts_send;
        abort_connection(c);
        return false;
    }
    return progress;
}

void HttpServer::finish_request(Connection& c)
{
    count_response(c.response.status());
    bool close = c.response.will_close() || !c.request.keep_alive || !c.body_done;
    destroy_handler(c, false);
    c.mid_request = false;
    if (close) {
        begin_close(c);
        return;
    }
    // Keep-alive: what follows the request (pipelined requests) moves to the front.
    size_t leftover = c.input_used - c.body_position;
    __builtin_memmove(c.input, c.input + c.body_position, leftover);
    c.input_used = leftover;
    c.head_end = 0;
    c.body_position = 0;
    c.scanner.reset();
    c.response.reset();
    c.state = Connection::State::Head;
    c.idle_since = m_now;
    c.head_started = m_now;
}

bool HttpServer::step_websocket(Connection& c)
{
    auto& websocket = c.websocket;
    bool progress = false;
    // Stop reading while our output is backed up (e.g. a ping flood).
    if (websocket.state() != WebSocket::State::Closed && c.output.used() < c.output.capacity()) {
        size_t count = read_into(c, c.input + c.input_used, c.input_capacity - c.input_used);
        if (count > 0) {
            c.input_used += count;
            c.last_receive = m_now;
            progress = true;
        }
    }
    size_t consumed = websocket.receive({ c.input, c.input_used }, *c.session);
    if (consumed > 0) {
        __builtin_memmove(c.input, c.input + consumed, c.input_used - consumed);
        c.input_used -= consumed;
        progress = true;
    }
    if (websocket.needs_abort()) {
        abort_connection(c);
        return false;
    }
    if (websocket.state() == WebSocket::State::Open)
        c.session->on_poll(websocket);
    if (websocket.needs_abort()) {
        abort_connection(c);
        return false;
    }
    if (websocket.state() == WebSocket::State::CloseSent && c.websocket_close_started == 0)
        c.websocket_close_started = m_now ? m_now : 1;
    if (websocket.state() == WebSocket::State::Closed) {
        begin_close(c);
        return true;
    }
    if (websocket.state() == WebSocket::State::CloseSent && m_now - c.websocket_close_started > m_limits.websocket_close_timeout_ns) {
        begin_close(c);
        return true;
    }
    if (!progress && c.stream->peer_closed()) {
        begin_close(c); // on_close(1006): the peer left without a Close frame
        return true;
    }
    if (websocket.state() == WebSocket::State::Open && m_now - c.last_receive > m_limits.websocket_idle_timeout_ns) {
        ++m_counters.timeouts_idle;
        websocket.close(close_code::going_away, "idle");
        return true;
    }
    return progress;
}

bool HttpServer::step_closing(Connection& c)
{
    if (!c.output.empty()) {
        if (m_now - c.output_progress > m_limits.send_timeout_ns) {
            ++m_counters.timeouts_send;
            abort_connection(c);
        }
        return false;
    }
    if (!c.close_called) {
        c.stream->close();
        c.close_called = true;
        c.closing_since = m_now;
        return true;
    }
    // Lingering close (RFC 9112 §9.6): keep reading and dropping what the
    // client still sends for a while, so it is not reset before it has
    // read our response.
    uint8_t scratch[512];
    size_t count = read_into(c, scratch, sizeof(scratch));
    if (c.stream->peer_closed() || m_now - c.closing_since > m_limits.linger_timeout_ns) {
        c.state = Connection::State::Dead;
        return false;
    }
    return count > 0;
}

} // namespace aisos::http
