# The kernel: freestanding C++20, higher half (-mcmodel=kernel), no SIMD in
# kernel code (-mno-mmx -mno-sse -mno-sse2 -mno-avx: an interrupt never clobbers a module's
# vector registers, and the kernel runs before XSAVE is set up).
KERNEL_BUILD := $(BUILD)/kernel
KERNEL_CXXFLAGS := $(FREESTANDING) -mcmodel=kernel -fno-pic -fno-pie -mno-mmx -mno-sse -mno-sse2 -mno-avx \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables -DAISOS_KERNEL
KERNEL_ASFLAGS := -fno-pic -fno-pie -I.

# Portable libraries are shared with the host build; host/ glue is not.
KERNEL_SOURCES := $(filter-out $(addsuffix %,$(KERNEL_EXCLUDE)),$(shell find kernel -name '*.cpp') $(shell find lib -name '*.cpp'))
KERNEL_ASM := $(shell find kernel -name '*.S')
KERNEL_OBJECTS := $(patsubst %.cpp,$(KERNEL_BUILD)/%.o,$(KERNEL_SOURCES)) \
	$(patsubst %.S,$(KERNEL_BUILD)/%.o,$(KERNEL_ASM)) \
	$(KERNEL_BUILD)/generated/Font.o

$(KERNEL_BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(KERNEL_CXXFLAGS) -MMD -MP -c $< -o $@

$(KERNEL_BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KERNEL_ASFLAGS) -MMD -MP -c $< -o $@

# The console font is generated from a PSF font that Debian ships.
$(KERNEL_BUILD)/generated/Font.cpp: tools/psf_to_cpp.py
	@mkdir -p $(dir $@)
	@python3 tools/psf_to_cpp.py $@

$(KERNEL_BUILD)/generated/Font.o: $(KERNEL_BUILD)/generated/Font.cpp
	@$(CXX) $(KERNEL_CXXFLAGS) -c $< -o $@

$(KERNEL_BUILD)/kernel.elf: $(KERNEL_OBJECTS) kernel/arch/x86_64/linker.ld
	@echo "  LD      $@"
	@$(LD) -nostdlib -static -z max-page-size=4096 -T kernel/arch/x86_64/linker.ld -o $@ $(KERNEL_OBJECTS)

.PHONY: kernel
kernel: $(KERNEL_BUILD)/kernel.elf

-include $(KERNEL_OBJECTS:.o=.d)

# .incbin'd files are not in the assembler's dependency output.
$(KERNEL_BUILD)/kernel/net/StaticFiles.o: $(wildcard static/*)
