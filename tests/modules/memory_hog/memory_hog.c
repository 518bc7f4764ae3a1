/* memory_hog: maps 1 MiB at a time, touching every page, until memory_map
 * refuses; the manifest's max_memory_mib (32) must be the limit, with
 * -AISOS_ENOMEM, not the machine's RAM. Then serves the result. */
#include <aisos/sys.h>
#include <stdio.h>

#define MIB (1u << 20)

static int64_t s_mapped_mib;
static int64_t s_error;

int main(void)
{
    aisos_log("memory_hog: started");
    for (;;) {
        int64_t error = 0;
        volatile unsigned char* block = aisos_map(MIB, &error);
        if (!block) {
            s_error = error;
            break;
        }
        /* Touch every page: a limit that only counts reservations would
         * otherwise hide a kernel that hands out memory lazily. */
        for (uint32_t offset = 0; offset < MIB; offset += 4096)
            block[offset] = (unsigned char)(offset >> 12);
        ++s_mapped_mib;
        if (s_mapped_mib > 4096) {
            s_error = 0; /* 4 GiB granted: the limit is not enforced */
            break;
        }
    }
    aisos_logf("memory_hog: refused after %lld MiB with error %lld", (long long)s_mapped_mib, (long long)s_error);

    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        int64_t result = aisos_request_receive(&request, body, sizeof(body), -1);
        if (result < 0) {
            aisos_sleep_ns(100000000);
            continue;
        }
        char json[128];
        snprintf(json, sizeof(json), "{\"mapped_mib\":%lld,\"error\":%lld,\"error_name\":\"%s\"}",
                 (long long)s_mapped_mib, (long long)s_error, aisos_error_name(s_error));
        aisos_respond_str(request.id, 200, "application/json", json);
    }
}
