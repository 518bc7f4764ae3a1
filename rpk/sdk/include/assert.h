/* aiSOS module SDK: assert() logs the failed expression and aborts the module. */
#ifndef AISOS_ASSERT_H
#define AISOS_ASSERT_H

#ifdef __cplusplus
extern "C" {
#endif
__attribute__((noreturn)) void __aisos_assert_failed(const char* expression, const char* file, int line);
#ifdef __cplusplus
}
#endif

#ifdef NDEBUG
#define assert(expression) ((void)0)
#else
#define assert(expression) ((expression) ? (void)0 : __aisos_assert_failed(#expression, __FILE__, __LINE__))
#endif

#ifndef __cplusplus
#define static_assert _Static_assert
#endif

#endif
