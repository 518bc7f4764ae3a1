/* Friendly wrappers over the raw calls in <aisos/sys.h>. */
#include <aisos/sys.h>
#include <stdio.h>
#include <string.h>

const char* aisos_error_name(int64_t error)
{
    static const char* const names[] = {
        "OK",     "EINVAL", "EFAULT",  "ENOMEM",    "ENOENT", "EACCES", "ELIMIT", "ETIMEDOUT", "EAGAIN",
        "E2BIG",  "EIO",    "ECANCELED", "ENOSYS", "ENOSPC", "EISDIR", "ENOTDIR", "EBUSY",
    };
    if (error < 0)
        error = -error;
    if (error < (int64_t)(sizeof(names) / sizeof(names[0])))
        return names[error];
    return "E?";
}

int64_t aisos_log(const char* text) { return aisos_sys_log(text, strlen(text)); }

int64_t aisos_vlogf(const char* format, va_list arguments)
{
    char line[1024];
    int length = vsnprintf(line, sizeof(line), format, arguments);
    if (length < 0)
        return -AISOS_EINVAL;
    size_t used = (size_t)length < sizeof(line) ? (size_t)length : sizeof(line) - 1;
    return aisos_sys_log(line, used);
}

int64_t aisos_logf(const char* format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int64_t result = aisos_vlogf(format, arguments);
    va_end(arguments);
    return result;
}

void* aisos_map(size_t length, int64_t* error)
{
    int64_t result = aisos_sys_memory_map(length, AISOS_MAP_READ | AISOS_MAP_WRITE);
    if (result < 0) {
        if (error)
            *error = result;
        return NULL;
    }
    if (error)
        *error = 0;
    return (void*)(uintptr_t)result;
}

int64_t aisos_unmap(void* address, size_t length) { return aisos_sys_memory_unmap(address, length); }

int64_t aisos_file_read(const char* path, uint64_t offset, void* buffer, size_t length)
{
    return aisos_sys_file_read(path, strlen(path), offset, buffer, length);
}

int64_t aisos_file_write(const char* path, const void* data, size_t length)
{
    return aisos_sys_file_write(path, strlen(path), data, length);
}

int64_t aisos_file_list(const char* path, char* buffer, size_t length)
{
    return aisos_sys_file_list(path, strlen(path), buffer, length);
}

int64_t aisos_file_stat(const char* path, struct aisos_file_stat* out)
{
    return aisos_sys_file_stat(path, strlen(path), out);
}

const void* aisos_file_map(const char* path, uint64_t* size, int64_t* error)
{
    uint64_t mapped_size = 0;
    int64_t result = aisos_sys_file_map(path, strlen(path), &mapped_size);
    if (result < 0) {
        if (error)
            *error = result;
        return NULL;
    }
    if (error)
        *error = 0;
    if (size)
        *size = mapped_size;
    return (const void*)(uintptr_t)result;
}

int64_t aisos_response_start(uint64_t request, uint32_t status, const char* content_type)
{
    return aisos_sys_response_start(request, status, content_type, content_type ? strlen(content_type) : 0);
}

int64_t aisos_response_write_str(uint64_t request, const char* text)
{
    return aisos_sys_response_write(request, text, strlen(text));
}

int64_t aisos_respond(uint64_t request, uint32_t status, const char* content_type, const void* body, size_t length)
{
    int64_t result = aisos_response_start(request, status, content_type);
    if (result >= 0 && length)
        result = aisos_sys_response_write(request, body, length);
    int64_t ended = aisos_sys_response_end(request);
    return result < 0 ? result : ended;
}

int64_t aisos_respond_str(uint64_t request, uint32_t status, const char* content_type, const char* body)
{
    return aisos_respond(request, status, content_type, body, strlen(body));
}

size_t aisos_request_path_length(const struct aisos_request* request)
{
    size_t length = request->target_length < AISOS_REQUEST_TARGET_MAX ? request->target_length
                                                                       : AISOS_REQUEST_TARGET_MAX;
    const char* query = memchr(request->target, '?', length);
    return query ? (size_t)(query - request->target) : length;
}

int aisos_request_path_is(const struct aisos_request* request, const char* path)
{
    size_t length = aisos_request_path_length(request);
    return strlen(path) == length && !memcmp(request->target, path, length);
}

int aisos_request_query(const struct aisos_request* request, const char* name, char* value, size_t capacity)
{
    size_t length = request->target_length < AISOS_REQUEST_TARGET_MAX ? request->target_length
                                                                       : AISOS_REQUEST_TARGET_MAX;
    size_t start = aisos_request_path_length(request);
    if (start >= length)
        return 0;
    size_t name_length = strlen(name);
    const char* p = request->target + start + 1;
    const char* end = request->target + length;
    while (p < end) {
        const char* pair_end = memchr(p, '&', (size_t)(end - p));
        if (!pair_end)
            pair_end = end;
        const char* equals = memchr(p, '=', (size_t)(pair_end - p));
        const char* key_end = equals ? equals : pair_end;
        if ((size_t)(key_end - p) == name_length && !memcmp(p, name, name_length)) {
            const char* v = equals ? equals + 1 : pair_end;
            size_t v_length = (size_t)(pair_end - v);
            if (capacity == 0)
                return 1;
            if (v_length >= capacity)
                v_length = capacity - 1;
            memcpy(value, v, v_length);
            value[v_length] = 0;
            return 1;
        }
        p = pair_end + 1;
    }
    return 0;
}

int64_t aisos_metrics_publish(const char* text) { return aisos_sys_metrics_publish(text, strlen(text)); }

int64_t aisos_config_get(const char* key, char* buffer, size_t capacity)
{
    if (!capacity)
        return -AISOS_E2BIG;
    /* One byte kept for the NUL the kernel does not write. */
    int64_t length = aisos_sys_config_get(key, strlen(key), buffer, capacity - 1);
    if (length < 0)
        return length;
    if ((uint64_t)length >= capacity)
        return -AISOS_E2BIG;
    buffer[length] = 0;
    return length;
}
