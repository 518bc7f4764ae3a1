/* aiSOS module SDK, C++ support (see README.md): libstdc++'s configuration
 * (bits/os_defines.h) asks which glibc it sits on. There is none. */
#ifndef AISOS_CXX_FEATURES_H
#define AISOS_CXX_FEATURES_H
#define __GLIBC_PREREQ(major, minor) 0
#endif
