/* fs_outside: the manifest grants /data/fs_outside (read and write) and
 * nothing else. Reads of other paths must fail with -AISOS_EACCES (or
 * -AISOS_EINVAL for a path with ".."), a write elsewhere too; a write and
 * read-back inside the grant must work. GET /fs_outside reports each result. */
#include <aisos/sys.h>
#include <stdio.h>
#include <string.h>

struct attempt {
    const char* name;
    int64_t result;
};

static struct attempt s_attempts[8];
static unsigned s_count;
static int s_readback_matches;

static void record(const char* name, int64_t result)
{
    s_attempts[s_count].name = name;
    s_attempts[s_count].result = result;
    ++s_count;
    aisos_logf("fs_outside: %s -> %lld (%s)", name, (long long)result, result < 0 ? aisos_error_name(result) : "ok");
}

int main(void)
{
    aisos_log("fs_outside: started");
    char buffer[256];
    record("read_system_users", aisos_file_read("/system/users", 0, buffer, sizeof(buffer)));
    record("read_models", aisos_file_read("/models/x", 0, buffer, sizeof(buffer)));
    record("read_dotdot", aisos_file_read("/data/fs_outside/../../system/users", 0, buffer, sizeof(buffer)));
    record("write_other", aisos_file_write("/data/other", "nope", 4));
    record("write_prefix_sibling", aisos_file_write("/data/fs_outside_sibling", "nope", 4));

    static const char note[] = "a note from fs_outside\n";
    record("write_note", aisos_file_write("/data/fs_outside/note.txt", note, sizeof(note) - 1));
    memset(buffer, 0, sizeof(buffer));
    int64_t read = aisos_file_read("/data/fs_outside/note.txt", 0, buffer, sizeof(buffer));
    record("read_note", read);
    s_readback_matches = read == (int64_t)(sizeof(note) - 1) && !memcmp(buffer, note, sizeof(note) - 1);

    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        if (aisos_request_receive(&request, body, sizeof(body), -1) < 0) {
            aisos_sleep_ns(100000000);
            continue;
        }
        char json[1024];
        size_t used = (size_t)snprintf(json, sizeof(json), "{");
        for (unsigned i = 0; i < s_count; ++i)
            used += (size_t)snprintf(json + used, sizeof(json) - used, "\"%s\":%lld,", s_attempts[i].name,
                                     (long long)s_attempts[i].result);
        snprintf(json + used, sizeof(json) - used, "\"read_note_matches\":%s}", s_readback_matches ? "true" : "false");
        aisos_respond_str(request.id, 200, "application/json", json);
    }
}
