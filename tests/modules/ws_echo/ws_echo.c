/* Test module for WebSocket routes and file mapping (tests/integration/modules/test_websocket_module.py):
 *   /ws_echo (WebSocket): greets on open with "open <user>", answers each
 *     message "echo: <message>" (a message "close" makes it close the
 *     connection), logs "ws_echo: closed <id>" when the client leaves.
 *   GET /ws_echo/map: maps /data/ws_echo/blob read-only and answers
 *     "<size> <sum of bytes>" so the test can compare with the file.
 *   GET /ws_echo/map-write: maps the same file and writes to it (must
 *     kill the module: the mapping is read-only). */
#include <aisos/sys.h>
#include <stdio.h>
#include <string.h>

static struct aisos_request request;
static char body[AISOS_REQUEST_BODY_MAX];
static const char blob[] = "/data/ws_echo/blob";

static void answer(uint64_t id, uint32_t status, const char* text)
{
    aisos_sys_response_start(id, status, "text/plain", 10);
    aisos_response_write(id, text, strlen(text));
    aisos_response_end(id);
}

static void serve_http(void)
{
    char reply[128];
    uint64_t size = 0;
    if (strncmp(request.target, "/ws_echo/map-write", request.target_length) == 0 && request.target_length == 18) {
        int64_t address = aisos_sys_file_map(blob, sizeof(blob) - 1, &size);
        if (address > 0)
            *(volatile char*)address = 1; /* must fault: read-only */
        answer(request.id, 500, "the write to a read-only mapping did not fault\n");
        return;
    }
    int64_t address = aisos_sys_file_map(blob, sizeof(blob) - 1, &size);
    if (address < 0) {
        snprintf(reply, sizeof(reply), "error %lld\n", (long long)address);
        answer(request.id, 500, reply);
        return;
    }
    const unsigned char* bytes = (const unsigned char*)address;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < size; ++i)
        sum += bytes[i];
    size_t pages = (size + 4095) / 4096;
    int64_t unmapped = aisos_sys_memory_unmap((void*)address, pages * 4096);
    snprintf(reply, sizeof(reply), "%llu %llu %lld\n", (unsigned long long)size, (unsigned long long)sum, (long long)unmapped);
    answer(request.id, 200, reply);
}

int main(void)
{
    aisos_log("ws_echo: started");
    char reply[512];
    for (;;) {
        if (aisos_request_receive(&request, body, sizeof(body), -1) < 0)
            continue;
        switch (request.kind) {
        case AISOS_REQUEST_HTTP:
            serve_http();
            break;
        case AISOS_REQUEST_WEBSOCKET_OPEN:
            snprintf(reply, sizeof(reply), "open %.*s", (int)request.user_length, request.user);
            aisos_response_write(request.id, reply, strlen(reply));
            break;
        case AISOS_REQUEST_WEBSOCKET_MESSAGE:
            if (request.body_length == 5 && memcmp(body, "close", 5) == 0) {
                aisos_response_end(request.id);
                break;
            }
            snprintf(reply, sizeof(reply), "echo: %.*s", (int)(request.body_length < 400 ? request.body_length : 400), body);
            aisos_response_write(request.id, reply, strlen(reply));
            break;
        case AISOS_REQUEST_WEBSOCKET_CLOSE:
            snprintf(reply, sizeof(reply), "ws_echo: closed %llu", (unsigned long long)request.id);
            aisos_log(reply);
            aisos_response_end(request.id);
            break;
        }
    }
}
