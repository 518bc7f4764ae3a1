/* Runs the module's static constructors (C++ globals, __attribute__((constructor)))
 * before main. The linker script brackets .preinit_array and .init_array;
 * the kernel relocated the entries already. Destructors never run: a module
 * ends by AISOS_SYS_EXIT, which ends every thread at once. */
#include <aisos/abi.h>

_Static_assert(AISOS_SYS_EXIT == 0, "crt0.S hard-codes the exit call's number");

typedef void (*aisos_constructor)(void);

extern const aisos_constructor __preinit_array_start[] __attribute__((visibility("hidden")));
extern const aisos_constructor __preinit_array_end[] __attribute__((visibility("hidden")));
extern const aisos_constructor __init_array_start[] __attribute__((visibility("hidden")));
extern const aisos_constructor __init_array_end[] __attribute__((visibility("hidden")));

void __aisos_run_constructors(void);

void __aisos_run_constructors(void)
{
    for (const aisos_constructor* c = __preinit_array_start; c != __preinit_array_end; ++c)
        (*c)();
    for (const aisos_constructor* c = __init_array_start; c != __init_array_end; ++c)
        (*c)();
}
