/* aiSOS module SDK, C++ support (see ../README.md): stands in for
 * libstdc++'s bits/atomic_wait.h, which pulls in pthreads and Linux futex
 * headers to implement std::atomic::wait/notify. Modules have no pthreads
 * and wait with the SDK's futex calls (aisos/thread.h), so std::atomic here
 * offers everything except wait/notify (__cpp_lib_atomic_wait stays
 * undefined, which is how <bits/atomic_base.h> leaves them out). */
#ifndef _GLIBCXX_ATOMIC_WAIT_H
#define _GLIBCXX_ATOMIC_WAIT_H 1
#endif
