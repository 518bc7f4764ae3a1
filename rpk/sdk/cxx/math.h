/* aiSOS module SDK, C++ support (see README.md): stands in for libstdc++'s
 * <math.h> wrapper; this is simply the SDK's own <math.h>. */
#define _GLIBCXX_INCLUDE_NEXT_C_HEADERS
#include_next <math.h>
#undef _GLIBCXX_INCLUDE_NEXT_C_HEADERS
