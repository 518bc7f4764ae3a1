#include "kernel/fs/FsEndpoints.h"

#include "kernel/fs/Storage.h"
#include "lib/json/JsonWriter.h"
#include "lib/net/http/ByteRange.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/PathDecoding.h"

namespace aisos::storage {

namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr size_t max_path = 4096;

// The file system's errors as HTTP answers.
void send_fs_error(HttpResponse& response, const Error& error)
{
    switch (error.code()) {
    case ErrorCode::NotFound: response.send_error(404, "no such file or directory"); return;
    case ErrorCode::InvalidArgument: response.send_error(400, error.reason()); return;
    case ErrorCode::Exists: response.send_error(409, error.reason()); return;
    case ErrorCode::Busy: response.send_error(409, "directory not empty"); return;
    case ErrorCode::NoSpace: response.send_error(507, "disk full; nothing was changed"); return;
    case ErrorCode::OutOfMemory: response.send_error(503, "out of memory"); return;
    default: response.send_error(500, error.reason()); return;
    }
}

// Decodes the /fs path of a request; answers the error itself when it fails.
// /fs/system holds the OS's own state and is not reachable through the API.
bool decode_path(const HttpRequest& request, HttpResponse& response, char (&buffer)[max_path], http::FsPath& path)
{
    if (!file_system()) {
        response.send_error(503, "no disk: /fs is not available");
        return false;
    }
    auto decoded = http::decode_fs_path(request.parameter("path"), buffer);
    if (decoded.is_error()) {
        response.send_error(400, decoded.error().reason());
        return false;
    }
    path = decoded.value();
    if (path.path == "system" || path.path.starts_with("system/")) {
        response.send_error(403, "/fs/system is reserved for the system");
        return false;
    }
    return true;
}

// PUT: streams the body into a new version of the file; it replaces the old
// one only when its last byte is durable (201 created, 204 replaced).
class PutHandler final : public http::HttpHandler {
public:
    ~PutHandler() override { discard(); }

    void on_request(const HttpRequest& request, HttpResponse& response) override
    {
        http::FsPath path;
        if (!decode_path(request, response, m_path_buffer, path))
            return;
        if (path.path.empty() || path.trailing_slash) {
            response.send_error(400, "a file path is required (PUT cannot write a directory)");
            return;
        }
        Locked locked;
        auto existing = file_system()->stat(path.path);
        if (!existing.is_error() && existing.value().type == fs::NodeType::Directory) {
            response.send_error(409, "a directory has that name");
            return;
        }
        m_replacing = !existing.is_error();
        auto writer = file_system()->begin_write(path.path);
        if (writer.is_error()) {
            send_fs_error(response, writer.error());
            return;
        }
        m_writer = writer.value();
    }

    size_t on_body(std::span<const uint8_t> piece, HttpResponse& response) override
    {
        if (!m_writer)
            return piece.size();
        Locked locked;
        if (auto appended = m_writer->append(piece); appended.is_error()) {
            // The writer already dropped its blocks; the old version is intact.
            fs::Writer::destroy(m_writer);
            m_writer = nullptr;
            send_fs_error(response, appended.error());
        }
        return piece.size();
    }

    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        if (!m_writer)
            return;
        ErrorOr<void> committed {};
        {
            Locked locked;
            committed = m_writer->commit();
            fs::Writer::destroy(m_writer);
            m_writer = nullptr;
        }
        if (committed.is_error()) {
            send_fs_error(response, committed.error());
            return;
        }
        response.send_empty(m_replacing ? 204 : 201);
    }

    void on_abort() override { discard(); }

private:
    void discard()
    {
        if (!m_writer)
            return;
        Locked locked;
        m_writer->abort();
        fs::Writer::destroy(m_writer);
        m_writer = nullptr;
    }

    char m_path_buffer[max_path];
    fs::Writer* m_writer { nullptr };
    bool m_replacing { false };
};

// GET and HEAD: a file's bytes (with Range) or a directory listing.
class GetHandler final : public http::HttpHandler {
public:
    ~GetHandler() override
    {
        if (m_file) {
            Locked locked;
            file_system()->close(m_file);
        }
    }

    void on_request(const HttpRequest& request, HttpResponse& response) override
    {
        http::FsPath path;
        if (!decode_path(request, response, m_path_buffer, path))
            return;
        auto file = open_or_list(path.path, response);
        if (!file.is_error() && !file.value())
            return; // a directory, listed
        if (file.is_error()) {
            send_fs_error(response, file.error());
            return;
        }
        m_file = file.value();
        uint64_t size = m_file->size();
        auto range = http::parse_byte_range(request.header("range").value_or(std::string_view {}), size);
        (void)response.header("Accept-Ranges", "bytes");
        char content_range[http::content_range_max_length];
        uint16_t status = 200;
        m_position = 0;
        m_end = size;
        if (range.kind == http::ByteRange::Kind::Unsatisfiable) {
            (void)response.header("Content-Range", http::format_content_range(range, size, content_range));
            response.send_error(416, "range not satisfiable");
            return;
        }
        if (range.kind == http::ByteRange::Kind::Satisfiable) {
            status = 206;
            m_position = range.first;
            m_end = range.last + 1;
            (void)response.header("Content-Range", http::format_content_range(range, size, content_range));
        }
        if (response.start(status, "application/octet-stream", http::ResponseLength::known(m_end - m_position)).is_error()) {
            response.send_error(500, "cannot start the response");
            return;
        }
        if (request.method == http::HttpMethod::Head)
            m_position = m_end;
    }

    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        if (!m_file || response.finished())
            return;
        uint8_t chunk[16 * 1024];
        while (m_position < m_end) {
            size_t room = response.writable();
            if (room == 0)
                return;
            size_t want = m_end - m_position < sizeof(chunk) ? static_cast<size_t>(m_end - m_position) : sizeof(chunk);
            if (want > room)
                want = room;
            ErrorOr<size_t> read { size_t(0) };
            {
                Locked locked;
                read = m_file->read(m_position, { chunk, want });
            }
            if (read.is_error() || read.value() == 0) {
                // Headers are out: only closing the connection can signal it.
                response.finish();
                return;
            }
            size_t written = response.write({ chunk, read.value() });
            m_position += written;
            if (written < read.value())
                return;
        }
        response.finish();
    }

private:
    // The file opened, or nullptr after answering with a directory listing.
    static ErrorOr<fs::OpenFile*> open_or_list(std::string_view path, HttpResponse& response)
    {
        Locked locked;
        auto stat = TRY(file_system()->stat(path));
        if (stat.type == fs::NodeType::Directory) {
            list_directory(path, response);
            return static_cast<fs::OpenFile*>(nullptr);
        }
        return file_system()->open(path);
    }

    static void list_directory(std::string_view path, HttpResponse& response)
    {
        json::JsonWriter json(response.body_buffer());
        json.begin_array();
        auto listed = file_system()->list(path, [&](const fs::DirectoryEntry& entry) -> ErrorOr<void> {
            json.begin_object();
            json.member("name", entry.name);
            json.member("type", entry.type == fs::NodeType::Directory ? "dir" : "file");
            json.key("size");
            json.unsigned_integer(entry.size);
            json.key("mtime");
            json.integer(entry.mtime);
            json.end_object();
            return {};
        });
        json.end_array();
        if (listed.is_error()) {
            send_fs_error(response, listed.error());
            return;
        }
        response.send_buffer(200, "application/json");
    }

    char m_path_buffer[max_path];
    fs::OpenFile* m_file { nullptr };
    uint64_t m_position { 0 };
    uint64_t m_end { 0 };
};

class DeleteHandler final : public http::HttpHandler {
public:
    void on_request(const HttpRequest& request, HttpResponse& response) override
    {
        http::FsPath path;
        if (!decode_path(request, response, m_path_buffer, path))
            return;
        if (path.path.empty()) {
            response.send_error(400, "the root of /fs cannot be deleted");
            return;
        }
        ErrorOr<void> removed {};
        {
            Locked locked;
            removed = file_system()->remove(path.path);
        }
        if (removed.is_error()) {
            send_fs_error(response, removed.error());
            return;
        }
        response.send_empty(204);
    }

private:
    char m_path_buffer[max_path];
};

template<typename Handler>
class Factory final : public http::HttpHandlerFactory {
public:
    ErrorOr<http::HttpHandler*> create(Allocator& allocator, const HttpRequest&) override
    {
        return TRY(allocator.create<Handler>());
    }
};

Factory<PutHandler> s_put;
Factory<GetHandler> s_get;
Factory<DeleteHandler> s_delete;

} // namespace

ErrorOr<void> register_endpoints(http::Router& router)
{
    using http::HttpMethod;
    using http::Role;
    TRY(router.add(HttpMethod::Put, "/fs/*path", s_put, { .role = Role::Admin, .body_limit = http::unlimited_body }));
    TRY(router.add(HttpMethod::Get, "/fs/*path", s_get, { .role = Role::User }));
    TRY(router.add(HttpMethod::Delete, "/fs/*path", s_delete, { .role = Role::Admin }));
    return {};
}

} // namespace aisos::storage
