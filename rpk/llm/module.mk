# rpk/llm links the portable engine (not engine/cli, not engine/platform/posix)
# and its aiSOS platform; sources are named from the repository root (see
# the aisos_module rule in rpk/sdk/sdk.mk).
MODULE_EXTRA_SOURCES_llm := $(wildcard engine/format/*.cpp engine/kernels/*.cpp engine/tokenizer/*.cpp \
	engine/model/*.cpp engine/generate/*.cpp) engine/platform/aisos/Platform.cpp lib/base/Error.cpp
MODULE_EXTRA_CXXFLAGS_llm := -I.
MODULE_CXX_STDLIB_llm := 1
