#include "lib/base/Demangle.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos;

static std::string demangle(std::string_view mangled)
{
    char buffer[128];
    return std::string(demangle_simple(mangled, buffer, sizeof(buffer)));
}

TEST(Demangle, CommonShapes)
{
    EXPECT_EQ(demangle("_ZN5aisos31debug_fault_write_unmapped_pageEv"), "aisos::debug_fault_write_unmapped_page");
    EXPECT_EQ(demangle("_Z4mainv"), "main");
    EXPECT_EQ(demangle("_ZNK5aisos4Heap4sizeEv"), "aisos::Heap::size");
    EXPECT_EQ(demangle("_ZN5aisos12_GLOBAL__N_14stepEi"), "aisos::(anonymous namespace)::step");
}

TEST(Demangle, LeavesUnknownOrBrokenNamesAlone)
{
    EXPECT_EQ(demangle("kernel_main"), "kernel_main");
    EXPECT_EQ(demangle("_ZN5aisos"), "_ZN5aisos");
    EXPECT_EQ(demangle("_ZN99999aE"), "_ZN99999aE");
    EXPECT_EQ(demangle("_ZNE"), "_ZNE");
    EXPECT_EQ(demangle("_Z"), "_Z");
    char tiny[4];
    EXPECT_EQ(std::string(demangle_simple("_Z4mainv", tiny, sizeof(tiny))), "_Z4mainv");
}
