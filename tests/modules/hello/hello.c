/* hello: the smallest useful module. Serves
 *   GET  /hello         200 text/plain "hello from a module\n"
 *   POST /hello/echo    the request body back, with its content type
 *   GET  /hello/stream  "chunk 0\n" .. "chunk 9\n", one response_write each
 *                       (?delay_ms=N: N ms between them)
 *   GET  /hello/info    system_info as JSON
 * and answers anything else under /hello/ with a JSON 404. */
#include <aisos/sys.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_body[AISOS_REQUEST_BODY_MAX];

static void error_response(const struct aisos_request* request, uint32_t status, const char* message)
{
    char json[160];
    snprintf(json, sizeof(json), "{\"error\":{\"code\":%u,\"message\":\"%s\"}}", status, message);
    aisos_respond_str(request->id, status, "application/json", json);
}

static void serve_info(const struct aisos_request* request)
{
    struct aisos_system_info info;
    memset(&info, 0, sizeof(info));
    int64_t result = aisos_sys_system_info(&info);
    if (result < 0) {
        error_response(request, 500, aisos_error_name(result));
        return;
    }
    info.module_name[sizeof(info.module_name) - 1] = 0;
    char json[512];
    snprintf(json, sizeof(json),
             "{\"abi_version\":%u,\"cpu_count\":%u,\"memory_limit\":%llu,\"memory_used\":%llu,"
             "\"thread_limit\":%u,\"gpu_count\":%u,\"module_name\":\"%s\"}",
             info.abi_version, info.cpu_count, (unsigned long long)info.memory_limit,
             (unsigned long long)info.memory_used, info.thread_limit, info.gpu_count, info.module_name);
    aisos_respond_str(request->id, 200, "application/json", json);
}

/* ?delay_ms=N (0..1000) pauses between writes, so a client can tell a
 * response that streams from one the kernel holds back until the end. */
static void serve_stream(const struct aisos_request* request)
{
    char value[16];
    long delay_ms = 0;
    if (aisos_request_query(request, "delay_ms", value, sizeof(value)))
        delay_ms = strtol(value, NULL, 10);
    if (delay_ms < 0 || delay_ms > 1000)
        return error_response(request, 400, "delay_ms must be 0..1000");
    if (aisos_response_start(request->id, 200, "text/plain") >= 0) {
        for (int i = 0; i < 10; ++i) {
            if (i && delay_ms)
                aisos_sleep_ns(delay_ms * 1000000);
            char line[16];
            int length = snprintf(line, sizeof(line), "chunk %d\n", i);
            if (aisos_response_write(request->id, line, (size_t)length) < 0)
                break; /* the client went away */
        }
    }
    aisos_response_end(request->id);
}

static void serve(const struct aisos_request* request)
{
    int get = request->method == AISOS_METHOD_GET;
    if (aisos_request_path_is(request, "/hello")) {
        if (!get)
            return error_response(request, 405, "method not allowed");
        aisos_respond_str(request->id, 200, "text/plain", "hello from a module\n");
    } else if (aisos_request_path_is(request, "/hello/echo")) {
        if (request->method != AISOS_METHOD_POST)
            return error_response(request, 405, "method not allowed");
        char content_type[AISOS_REQUEST_CONTENT_TYPE_MAX + 1] = "application/octet-stream";
        if (request->content_type_length && request->content_type_length <= AISOS_REQUEST_CONTENT_TYPE_MAX) {
            memcpy(content_type, request->content_type, request->content_type_length);
            content_type[request->content_type_length] = 0;
        }
        aisos_respond(request->id, 200, content_type, s_body, request->body_length);
    } else if (aisos_request_path_is(request, "/hello/stream")) {
        if (!get)
            return error_response(request, 405, "method not allowed");
        serve_stream(request);
    } else if (aisos_request_path_is(request, "/hello/info")) {
        if (!get)
            return error_response(request, 405, "method not allowed");
        serve_info(request);
    } else {
        error_response(request, 404, "no such path in module hello");
    }
}

int main(void)
{
    aisos_log("hello: started");
    static struct aisos_request request;
    for (;;) {
        int64_t result = aisos_request_receive(&request, s_body, sizeof(s_body), -1);
        if (result < 0) {
            aisos_logf("hello: request_receive failed: %s", aisos_error_name(result));
            aisos_sleep_ns(100000000);
            continue;
        }
        if (request.kind != AISOS_REQUEST_HTTP) {
            /* No WebSocket routes in the manifest, so none should come; if
             * one does, close it (OPEN) or release it (CLOSE). A MESSAGE
             * has nothing to end. */
            if (request.kind != AISOS_REQUEST_WEBSOCKET_MESSAGE)
                aisos_response_end(request.id);
            continue;
        }
        serve(&request);
    }
}
