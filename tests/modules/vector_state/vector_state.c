/* vector_state: GET /vector_state runs 8 threads (more than the CPUs that
 * run modules, so they are preempted and migrate) that each load all 16
 * XMM registers (and, with AVX, the upper halves of the YMM registers) with
 * a pattern of their own, spin so the timer preempts them, yield, and check
 * every register still holds their pattern. Any mismatch means the kernel
 * lost or mixed up a thread's vector state on a context switch.
 * Answers {"threads", "rounds", "mismatches", "avx"}. */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 40

static int has_avx;

static int cpu_has_avx(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28))) /* OSXSAVE, AVX */
        return 0;
    uint32_t xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    return (xcr0_low & 6) == 6; /* the OS saves XMM and YMM state */
}

/* Loads 16 x 32 bytes into ymm0-15 (or 16 x 16 into xmm0-15), spins, stores them back. */
static void fill_spin_dump(const uint8_t* in, uint8_t* out, uint64_t spin)
{
    if (has_avx) {
        __asm__ volatile(
            "vmovdqu 0(%0), %%ymm0\n vmovdqu 32(%0), %%ymm1\n vmovdqu 64(%0), %%ymm2\n vmovdqu 96(%0), %%ymm3\n"
            "vmovdqu 128(%0), %%ymm4\n vmovdqu 160(%0), %%ymm5\n vmovdqu 192(%0), %%ymm6\n vmovdqu 224(%0), %%ymm7\n"
            "vmovdqu 256(%0), %%ymm8\n vmovdqu 288(%0), %%ymm9\n vmovdqu 320(%0), %%ymm10\n vmovdqu 352(%0), %%ymm11\n"
            "vmovdqu 384(%0), %%ymm12\n vmovdqu 416(%0), %%ymm13\n vmovdqu 448(%0), %%ymm14\n vmovdqu 480(%0), %%ymm15\n"
            "1: dec %2\n jnz 1b\n"
            "vmovdqu %%ymm0, 0(%1)\n vmovdqu %%ymm1, 32(%1)\n vmovdqu %%ymm2, 64(%1)\n vmovdqu %%ymm3, 96(%1)\n"
            "vmovdqu %%ymm4, 128(%1)\n vmovdqu %%ymm5, 160(%1)\n vmovdqu %%ymm6, 192(%1)\n vmovdqu %%ymm7, 224(%1)\n"
            "vmovdqu %%ymm8, 256(%1)\n vmovdqu %%ymm9, 288(%1)\n vmovdqu %%ymm10, 320(%1)\n vmovdqu %%ymm11, 352(%1)\n"
            "vmovdqu %%ymm12, 384(%1)\n vmovdqu %%ymm13, 416(%1)\n vmovdqu %%ymm14, 448(%1)\n vmovdqu %%ymm15, 480(%1)\n"
            "vzeroupper\n"
            : : "r"(in), "r"(out), "r"(spin)
            : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
              "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
        return;
    }
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "movdqu 64(%0), %%xmm4\n movdqu 80(%0), %%xmm5\n movdqu 96(%0), %%xmm6\n movdqu 112(%0), %%xmm7\n"
        "movdqu 128(%0), %%xmm8\n movdqu 144(%0), %%xmm9\n movdqu 160(%0), %%xmm10\n movdqu 176(%0), %%xmm11\n"
        "movdqu 192(%0), %%xmm12\n movdqu 208(%0), %%xmm13\n movdqu 224(%0), %%xmm14\n movdqu 240(%0), %%xmm15\n"
        "1: dec %2\n jnz 1b\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        "movdqu %%xmm4, 64(%1)\n movdqu %%xmm5, 80(%1)\n movdqu %%xmm6, 96(%1)\n movdqu %%xmm7, 112(%1)\n"
        "movdqu %%xmm8, 128(%1)\n movdqu %%xmm9, 144(%1)\n movdqu %%xmm10, 160(%1)\n movdqu %%xmm11, 176(%1)\n"
        "movdqu %%xmm12, 192(%1)\n movdqu %%xmm13, 208(%1)\n movdqu %%xmm14, 224(%1)\n movdqu %%xmm15, 240(%1)\n"
        : : "r"(in), "r"(out), "r"(spin)
        : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

struct worker {
    uint32_t index;
    uint32_t mismatches;
};

static int64_t run(void* argument)
{
    struct worker* worker = argument;
    uint8_t pattern[512], back[512];
    size_t size = has_avx ? 512 : 256;
    for (uint32_t round = 0; round < ROUNDS; ++round) {
        for (size_t i = 0; i < size; ++i)
            pattern[i] = (uint8_t)(worker->index * 37 + round * 11 + i * 3 + 1);
        /* Long enough that the 100 Hz timer preempts it now and then. */
        fill_spin_dump(pattern, back, 2000000);
        if (memcmp(pattern, back, size) != 0)
            ++worker->mismatches;
        aisos_yield();
    }
    return 0;
}

int main(void)
{
    has_avx = cpu_has_avx();
    aisos_log("vector_state: started");
    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        if (aisos_request_receive(&request, body, sizeof(body), -1) < 0)
            continue;
        struct worker workers[THREADS];
        aisos_thread_t threads[THREADS];
        uint32_t started = 0, mismatches = 0;
        for (uint32_t i = 0; i < THREADS; ++i) {
            workers[i].index = i;
            workers[i].mismatches = 0;
            if (aisos_thread_create(&threads[i], run, &workers[i]) >= 0)
                ++started;
            else
                break;
        }
        for (uint32_t i = 0; i < started; ++i) {
            aisos_thread_join(&threads[i], 0);
            mismatches += workers[i].mismatches;
        }
        char reply[160];
        snprintf(reply, sizeof(reply), "{\"threads\":%u,\"rounds\":%u,\"mismatches\":%u,\"avx\":%s}\n", started, ROUNDS,
            mismatches, has_avx ? "true" : "false");
        aisos_sys_response_start(request.id, 200, "application/json", 16);
        aisos_response_write(request.id, reply, strlen(reply));
        aisos_response_end(request.id);
    }
}
