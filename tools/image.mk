# Bootable images, both holding the same EFI System Partition (FAT):
#   $(BUILD)/aisos.iso  El Torito, EFI no-emulation boot image = the ESP (xorriso)
#   $(BUILD)/aisos.img  raw GPT disk with the ESP as partition 1, for dd to a
#                       USB stick or an NVMe/SATA disk (sgdisk + dd)
# ESP contents: \EFI\BOOT\BOOTX64.EFI, \aisos\kernel.elf, \aisos\aisos.cfg and,
# when $(BUILD)/initrd exists, \aisos\initrd. No root, no loop devices.
# Included by tools/metal.mk after boot/boot.mk and kernel/kernel.mk.

IMAGE_KERNEL := $(BUILD)/kernel/kernel.elf
# The configuration baked into the images: build/aisos.cfg when the user made
# one, else the commented default. `./aisos run --config FILE` swaps it in a
# copy of the image instead of rebuilding.
IMAGE_CONFIG ?= $(firstword $(wildcard build/aisos.cfg) tools/default.cfg)
IMAGE_INITRD := $(wildcard $(BUILD)/initrd)
IMAGE_ESP := $(BUILD)/esp.img
IMAGE_ISO := $(BUILD)/aisos.iso
IMAGE_DISK := $(BUILD)/aisos.img

# Which config and initrd went in: a change of choice (build/aisos.cfg
# created, initrd removed) rebuilds the images even when no file is newer.
IMAGE_INPUTS := $(BUILD)/image-inputs.txt

# mtools refuses some geometries it considers odd unless told not to check.
IMAGE_MTOOLS := MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0

.PHONY: images
images: $(IMAGE_ISO) $(IMAGE_DISK)

# Size: the files plus a quarter and 4 MiB for FAT overhead, at least 16 MiB;
# FAT32 from 64 MiB up (what the UEFI spec prefers for fixed disks), FAT16
# below (FAT32 needs ~65k clusters).
.PHONY: image-inputs-check
$(IMAGE_INPUTS): image-inputs-check
	@mkdir -p $(dir $@)
	@echo "config=$(IMAGE_CONFIG) initrd=$(IMAGE_INITRD)" | cmp -s - $@ || echo "config=$(IMAGE_CONFIG) initrd=$(IMAGE_INITRD)" > $@

$(IMAGE_ESP): $(BOOT_EFI) $(IMAGE_KERNEL) $(IMAGE_CONFIG) $(IMAGE_INITRD) $(IMAGE_INPUTS) tools/image.mk
	@mkdir -p $(dir $@)
	@rm -f $@.tmp
	@bytes=$$(cat $(BOOT_EFI) $(IMAGE_KERNEL) $(IMAGE_CONFIG) $(IMAGE_INITRD) | wc -c); \
	mib=$$(( bytes * 5 / 4 / 1048576 + 4 )); \
	if [ $$mib -lt 16 ]; then mib=16; fi; \
	fat=""; if [ $$mib -ge 64 ]; then fat=-F; fi; \
	truncate -s $${mib}M $@.tmp && \
	$(IMAGE_MTOOLS) mformat -i $@.tmp $$fat -v AISOS :: && \
	$(IMAGE_MTOOLS) mmd -i $@.tmp ::/EFI ::/EFI/BOOT ::/aisos && \
	$(IMAGE_MTOOLS) mcopy -i $@.tmp $(BOOT_EFI) ::/EFI/BOOT/BOOTX64.EFI && \
	$(IMAGE_MTOOLS) mcopy -i $@.tmp $(IMAGE_KERNEL) ::/aisos/kernel.elf && \
	$(IMAGE_MTOOLS) mcopy -i $@.tmp $(IMAGE_CONFIG) ::/aisos/aisos.cfg
	$(if $(IMAGE_INITRD),@$(IMAGE_MTOOLS) mcopy -i $@.tmp $(IMAGE_INITRD) ::/aisos/initrd)
	@mv $@.tmp $@
	@echo "  ESP     $@ (config $(IMAGE_CONFIG), $(if $(IMAGE_INITRD),initrd $(IMAGE_INITRD),no initrd))"

$(IMAGE_ISO): $(IMAGE_ESP)
	@rm -rf $(BUILD)/iso-root $@.tmp
	@mkdir -p $(BUILD)/iso-root
	@cp $(IMAGE_ESP) $(BUILD)/iso-root/esp.img
	@xorriso -as mkisofs -quiet -V AISOS -R -J -e esp.img -no-emul-boot \
		-o $@.tmp $(BUILD)/iso-root 2>&1 | grep -v -e '^xorriso 1' -e '^xorriso : NOTE' -e '^$$' || true
	@test -s $@.tmp && mv $@.tmp $@
	@rm -rf $(BUILD)/iso-root
	@echo "  ISO     $@"

# GPT: partition 1 from 1 MiB (sector 2048), the ESP's size, type EF00; 1 MiB
# at the end for the backup GPT. The ESP is written in place with dd.
$(IMAGE_DISK): $(IMAGE_ESP)
	@rm -f $@.tmp
	@esp_mib=$$(( $$(stat -c %s $(IMAGE_ESP)) / 1048576 )); \
	truncate -s $$(( esp_mib + 2 ))M $@.tmp && \
	sgdisk --clear --new=1:2048:+$${esp_mib}M --typecode=1:ef00 --change-name=1:"EFI System" $@.tmp >/dev/null && \
	dd if=$(IMAGE_ESP) of=$@.tmp bs=1M seek=1 conv=notrunc,sparse status=none
	@mv $@.tmp $@
	@echo "  DISK    $@"

# The image ./aisos run boots: the same ESP plus $(RUN_IMAGE_DIR)/initrd
# (the llm module and the default model, preinstalled on first boot), built
# by a recursive make with the image variables pointed at RUN_IMAGE_DIR.
RUN_IMAGE_DIR ?= build/run
.PHONY: run-images
run-images: $(BOOT_EFI) $(IMAGE_KERNEL)
	@$(MAKE) -s -f tools/metal.mk BUILD=$(BUILD) IMAGE_INITRD=$(wildcard $(RUN_IMAGE_DIR)/initrd) \
		IMAGE_ESP=$(RUN_IMAGE_DIR)/esp.img IMAGE_ISO=$(RUN_IMAGE_DIR)/aisos.iso IMAGE_DISK=$(RUN_IMAGE_DIR)/aisos.img \
		IMAGE_INPUTS=$(RUN_IMAGE_DIR)/image-inputs.txt $(RUN_IMAGE_DIR)/aisos.img
