/* aiSOS module SDK, C++ support (see README.md): stands in for libstdc++'s
 * <stdlib.h> wrapper, which would re-export C library names the SDK does
 * not have. This is simply the SDK's own <stdlib.h>. */
#define _GLIBCXX_INCLUDE_NEXT_C_HEADERS
#include_next <stdlib.h>
#undef _GLIBCXX_INCLUDE_NEXT_C_HEADERS
