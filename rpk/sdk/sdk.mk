# The aiSOS module SDK and modules (see rpk/sdk/README.md).
#
#   make -f rpk/sdk/sdk.mk BUILD=build/metal                      every module under tests/modules/
#   make -f rpk/sdk/sdk.mk BUILD=build/metal MODULE_DIR=path/to/m  one module (its own folder)
#
# Outputs:
#   $(BUILD)/sdk/libaisos.a, $(BUILD)/sdk/crt0.o  the SDK
#   $(BUILD)/modules/<name>.elf                    static-PIE, checked by check_module.sh
#   $(BUILD)/modules/<name>.rpk                    packed with $(RPK_PACKER)
# where <name> is the folder's name; the folder holds *.c, *.cpp, *.S and
# manifest.json (whose "entry" is "<name>.elf").
#
# tools/metal.mk includes this file, so ./aisos build builds the SDK and the
# test modules too (target `modules`, part of `all`).

SDK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BUILD ?= build/metal
MODULE_CC ?= clang
MODULE_CXX ?= clang++
MODULE_LD ?= ld.lld
MODULE_AR ?= llvm-ar
RPK_PACKER ?= build/host/bin/aisos-rpk
# Every module folder under MODULES_DIR plus the product modules of
# PRODUCT_MODULE_DIRS, or only MODULE_DIR when given.
MODULES_DIR ?= tests/modules
PRODUCT_MODULE_DIRS ?= rpk/llm

SDK_BUILD := $(BUILD)/sdk
SDK_LIB := $(SDK_BUILD)/libaisos.a
SDK_CRT0 := $(SDK_BUILD)/crt0.o
MODULES_BUILD := $(BUILD)/modules

# Freestanding, position independent, no host headers or libraries: the
# SDK's include/ stands in for libc; clang's own headers (stdint.h, stddef.h,
# stdarg.h, limits.h, the x86 intrinsics) stay available. SSE up to SSE4.2
# (x86-64-v2) is always there; AVX and later only behind a CPUID check.
# No unwind tables: there are no exceptions and module.ld drops .eh_frame.
MODULE_FLAGS := --target=x86_64-unknown-none-elf -ffreestanding -fPIE -fvisibility=hidden \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-ffunction-sections -fdata-sections -march=x86-64-v2 -O2 -g \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP
MODULE_SDK_INCLUDES := -nostdlibinc -isystem $(SDK_DIR)/include
MODULE_CFLAGS := -std=gnu11 $(MODULE_FLAGS) $(MODULE_SDK_INCLUDES)
MODULE_CXXFLAGS := -std=gnu++20 -fno-exceptions -fno-rtti $(MODULE_FLAGS) $(MODULE_SDK_INCLUDES)
MODULE_ASFLAGS := $(MODULE_FLAGS) $(MODULE_SDK_INCLUDES)
# C++ modules that want the header-only standard library (<atomic>,
# <optional>, <algorithm>...): libstdc++'s headers with the SDK's stand-ins
# in cxx/ first (see cxx/README.md). A module opts in from its module.mk.
LIBSTDCXX_VERSION ?= 12
MODULE_CXX_STDLIB_INCLUDES := -nostdlibinc -isystem $(SDK_DIR)/cxx -isystem /usr/include/c++/$(LIBSTDCXX_VERSION) \
	-isystem /usr/include/x86_64-linux-gnu/c++/$(LIBSTDCXX_VERSION) -isystem $(SDK_DIR)/include
MODULE_CXX_STDLIB_CXXFLAGS := -std=gnu++20 -fno-exceptions -fno-rtti $(MODULE_FLAGS) $(MODULE_CXX_STDLIB_INCLUDES)
# -z text: no relocation may patch code; --no-dynamic-linker: no PT_INTERP.
MODULE_LDFLAGS := -pie --no-dynamic-linker -static -z text -z noexecstack -z max-page-size=4096 \
	-T $(SDK_DIR)/module.ld -e _start --gc-sections

SDK_SOURCES := $(filter-out $(SDK_DIR)/src/crt0.S,$(wildcard $(SDK_DIR)/src/*.c $(SDK_DIR)/src/*.cpp $(SDK_DIR)/src/*.S))
SDK_OBJECTS := $(patsubst $(SDK_DIR)/src/%,$(SDK_BUILD)/%.o,$(SDK_SOURCES))

$(SDK_BUILD)/%.c.o: $(SDK_DIR)/src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(MODULE_CC) $(MODULE_CFLAGS) -c $< -o $@

$(SDK_BUILD)/%.cpp.o: $(SDK_DIR)/src/%.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(MODULE_CXX) $(MODULE_CXXFLAGS) -c $< -o $@

$(SDK_BUILD)/%.S.o: $(SDK_DIR)/src/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(MODULE_CC) $(MODULE_ASFLAGS) -c $< -o $@

$(SDK_CRT0): $(SDK_BUILD)/crt0.S.o
	@cp $< $@

$(SDK_LIB): $(SDK_OBJECTS)
	@echo "  AR      $@"
	@rm -f $@
	@$(MODULE_AR) rcs $@ $^

.PHONY: sdk
sdk: $(SDK_LIB) $(SDK_CRT0)

# Host test of the SDK's portable C (tests/libc_test.c), under ASan and
# UBSan: the SDK sources compiled for Linux with their public names
# prefixed by sdk_ so they sit beside the host libc they are compared with.
SDK_HOST_CC ?= clang
SDK_TEST_BUILD := $(SDK_BUILD)/host-test
SDK_TEST_SOURCES := stdio.c stdlib.c string.c malloc.c
SDK_TEST_NAMES := snprintf vsnprintf puts strtol strtoul strtoll strtoull atoi atol abort exit \
	memcpy memmove memset memcmp memchr strlen strnlen strcmp strncmp strchr strrchr strstr strcpy strncpy \
	malloc calloc realloc aligned_alloc free
SDK_TEST_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror -Wno-unused-parameter
SDK_TEST_OBJECTS := $(patsubst %,$(SDK_TEST_BUILD)/%.o,$(SDK_TEST_SOURCES))

$(SDK_TEST_BUILD)/%.c.o: $(SDK_DIR)/src/%.c
	@mkdir -p $(dir $@)
	@$(SDK_HOST_CC) $(SDK_TEST_FLAGS) -ffreestanding -fno-builtin -nostdlibinc -isystem $(SDK_DIR)/include \
		$(foreach name,$(SDK_TEST_NAMES),-D$(name)=sdk_$(name)) -c $< -o $@

$(SDK_TEST_BUILD)/libc_test: $(SDK_DIR)/tests/libc_test.c $(SDK_TEST_OBJECTS)
	@$(SDK_HOST_CC) $(SDK_TEST_FLAGS) -Wno-format -o $@ $^  # the test feeds odd formats on purpose

.PHONY: sdk-test
sdk-test: $(SDK_TEST_BUILD)/libc_test
	@$<

# Host test of src/math.c against the host libm (tests/math_test.c), the
# same way: public names prefixed by sdk_.
SDK_MATH_NAMES := exp log log2 pow sin cos tanh sqrt fabs floor ceil trunc round nearbyint fmin fmax copysign \
	$(foreach name,exp log log2 pow sin cos tanh sqrt fabs floor ceil trunc round nearbyint fmin fmax copysign,$(name)f)

$(SDK_TEST_BUILD)/math.o: $(SDK_DIR)/src/math.c $(SDK_DIR)/include/math.h
	@mkdir -p $(dir $@)
	@$(SDK_HOST_CC) $(SDK_TEST_FLAGS) -ffreestanding -fno-builtin -nostdlibinc -isystem $(SDK_DIR)/include \
		$(foreach name,$(SDK_MATH_NAMES),-D$(name)=sdk_$(name)) -c $< -o $@

$(SDK_TEST_BUILD)/math_test: $(SDK_DIR)/tests/math_test.c $(SDK_TEST_BUILD)/math.o
	@$(SDK_HOST_CC) $(SDK_TEST_FLAGS) -o $@ $^ -lm

.PHONY: sdk-math-test
sdk-math-test: $(SDK_TEST_BUILD)/math_test
	@$<

# One module: $(1) its name, $(2) its folder. An optional $(2)/module.mk
# may set, for the module <name>:
#   MODULE_EXTRA_SOURCES_<name>   C++ sources from elsewhere in the tree
#                                 (paths from the repository root, e.g. engine/...)
#   MODULE_EXTRA_CXXFLAGS_<name>  more C++ flags (e.g. -I. for "engine/..." includes)
#   MODULE_CXX_STDLIB_<name> := 1 compile its C++ with MODULE_CXX_STDLIB_CXXFLAGS
define aisos_module
-include $(2)/module.mk
MODULE_SOURCES_$(1) := $(wildcard $(2)/*.c $(2)/*.cpp $(2)/*.S)
MODULE_OBJECTS_$(1) := $$(patsubst $(2)/%,$(MODULES_BUILD)/obj/$(1)/%.o,$$(MODULE_SOURCES_$(1))) \
	$$(patsubst %,$(MODULES_BUILD)/obj/$(1)/extra/%.o,$$(MODULE_EXTRA_SOURCES_$(1)))
MODULE_OWN_CXXFLAGS_$(1) := $$(if $$(MODULE_CXX_STDLIB_$(1)),$(MODULE_CXX_STDLIB_CXXFLAGS),$(MODULE_CXXFLAGS)) $$(MODULE_EXTRA_CXXFLAGS_$(1))

$(MODULES_BUILD)/obj/$(1)/%.c.o: $(2)/%.c
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$<"
	@$(MODULE_CC) $(MODULE_CFLAGS) -c $$< -o $$@

$(MODULES_BUILD)/obj/$(1)/%.cpp.o: $(2)/%.cpp
	@mkdir -p $$(dir $$@)
	@echo "  CXX     $$<"
	@$(MODULE_CXX) $$(MODULE_OWN_CXXFLAGS_$(1)) -c $$< -o $$@

$(MODULES_BUILD)/obj/$(1)/extra/%.cpp.o: %.cpp
	@mkdir -p $$(dir $$@)
	@echo "  CXX     $$<"
	@$(MODULE_CXX) $$(MODULE_OWN_CXXFLAGS_$(1)) -c $$< -o $$@

$(MODULES_BUILD)/obj/$(1)/%.S.o: $(2)/%.S
	@mkdir -p $$(dir $$@)
	@echo "  AS      $$<"
	@$(MODULE_CC) $(MODULE_ASFLAGS) -c $$< -o $$@

$(MODULES_BUILD)/$(1).elf: $(SDK_CRT0) $$(MODULE_OBJECTS_$(1)) $(SDK_LIB) $(SDK_DIR)/module.ld $(SDK_DIR)/check_module.sh
	@test -n "$$(MODULE_OBJECTS_$(1))" || { echo "error: module $(1): no *.c, *.cpp or *.S in $(2)" >&2; exit 1; }
	@echo "  LD      $$@"
	@$(MODULE_LD) $(MODULE_LDFLAGS) -o $$@.tmp $(SDK_CRT0) $$(MODULE_OBJECTS_$(1)) $(SDK_LIB)
	@sh $(SDK_DIR)/check_module.sh $$@.tmp
	@mv $$@.tmp $$@

$(MODULES_BUILD)/$(1).rpk: $(MODULES_BUILD)/$(1).elf $(2)/manifest.json
	@test -x "$(RPK_PACKER)" || { echo "error: module $(1): the .rpk packer $(RPK_PACKER) does not exist;" \
		"build it first (cmake --build build/host --target aisos-rpk) or set RPK_PACKER=path" >&2; exit 1; }
	@echo "  RPK     $$@"
	@$(RPK_PACKER) pack --manifest $(2)/manifest.json --elf $$< -o $$@.tmp >/dev/null
	@mv $$@.tmp $$@

-include $$(MODULE_OBJECTS_$(1):.o=.d)
endef

ifdef MODULE_DIR
MODULE_FOLDERS := $(patsubst %/,%,$(MODULE_DIR))
else
MODULE_FOLDERS := $(patsubst %/manifest.json,%,$(wildcard $(MODULES_DIR)/*/manifest.json $(addsuffix /manifest.json,$(PRODUCT_MODULE_DIRS))))
endif
MODULE_NAMES := $(notdir $(MODULE_FOLDERS))
$(foreach folder,$(MODULE_FOLDERS),$(eval $(call aisos_module,$(notdir $(folder)),$(folder))))

ifdef MODULE_DIR
ifeq ($(wildcard $(MODULE_DIR)/manifest.json),)
$(error MODULE_DIR=$(MODULE_DIR) has no manifest.json)
endif
endif

.PHONY: modules module-elfs
module-elfs: $(patsubst %,$(MODULES_BUILD)/%.elf,$(MODULE_NAMES))
modules: module-elfs $(patsubst %,$(MODULES_BUILD)/%.rpk,$(MODULE_NAMES))

# Included from tools/metal.mk: part of its `all`. On its own: the default.
ifneq ($(filter %tools/metal.mk,$(MAKEFILE_LIST)),)
all: modules
else
.DEFAULT_GOAL := modules
endif

-include $(SDK_OBJECTS:.o=.d)
