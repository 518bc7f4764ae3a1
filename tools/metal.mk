# Bare-metal build: the UEFI loader (boot/boot.mk), the kernel
# (kernel/kernel.mk) and the bootable images (tools/image.mk).
# Invoked by ./aisos build as: make -f tools/metal.mk BUILD=build/metal
BUILD ?= build/metal
CXX := clang++
CC := clang
LD := ld.lld
LLD_LINK := lld-link

# Our code: warnings are errors.
WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

# Shared by loader and kernel: freestanding C++20, no exceptions, no RTTI,
# no red zone (interrupts use the same stack), no SSE in code that runs
# before the kernel has enabled it (the kernel turns it on itself).
FREESTANDING := -std=gnu++20 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	-fno-stack-protector -mno-red-zone -fno-builtin -nostdlib -I. $(WARNINGS) -O2 -g

.PHONY: all
all: images

include boot/boot.mk
include kernel/kernel.mk
include tools/image.mk
include rpk/sdk/sdk.mk
