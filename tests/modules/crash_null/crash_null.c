/* crash_null: faults on purpose. The kernel must kill it (a page fault in
 * ring 3 is the module's problem, not the kernel's) and the supervisor must
 * restart it with backoff; GET /pkg shows its restarts growing. */
#include <aisos/sys.h>

int main(void)
{
    aisos_log("crash_null: started, dereferencing NULL");
    return *(volatile int*)0;
}
