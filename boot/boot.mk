# The UEFI loader: a PE32+ EFI application, \EFI\BOOT\BOOTX64.EFI.
# Built for the x86_64-windows target (PE/COFF, Microsoft x64 calling
# convention, which is UEFI's), linked by lld-link without any C runtime.
# Included by tools/metal.mk, which defines BUILD, CXX, LLD_LINK, FREESTANDING.

# Shared std-free code from lib/: error names and the ELF validator.
BOOT_SOURCES := $(wildcard boot/*.cpp) lib/base/Error.cpp lib/elf/Executable.cpp
BOOT_OBJECTS := $(patsubst %.cpp,$(BUILD)/boot/obj/%.obj,$(BOOT_SOURCES))
BOOT_EFI := $(BUILD)/boot/BOOTX64.EFI

# -mno-stack-arg-probe: no __chkstk calls for big frames (no CRT provides it).
# -fshort-wchar is the windows default; char16_t is used for UEFI strings.
BOOT_CXXFLAGS := $(FREESTANDING) -target x86_64-unknown-windows -mno-stack-arg-probe \
	-fno-asynchronous-unwind-tables -MMD -MP

$(BUILD)/boot/obj/%.obj: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(BOOT_CXXFLAGS) -c $< -o $@

$(BOOT_EFI): $(BOOT_OBJECTS)
	@mkdir -p $(dir $@)
	$(LLD_LINK) /nologo /subsystem:efi_application /entry:efi_main /nodefaultlib \
		/machine:x64 /out:$@ $^

.PHONY: loader
loader: $(BOOT_EFI)

-include $(BOOT_OBJECTS:.obj=.d)
