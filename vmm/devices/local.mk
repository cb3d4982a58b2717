# The platform devices: the UART, the i8042 reset line, the RTC, the PCI host
# bridge and MSI-X tables.  Included from vmm/local.mk; test-pci, which
# drives them with the virtio transport, is in vmm/virtio/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/devices/serial.h vmm/devices/serial.c \
	vmm/devices/i8042.h vmm/devices/i8042.c \
	vmm/devices/rtc.h vmm/devices/rtc.c \
	vmm/devices/pci.h vmm/devices/pci.c \
	vmm/devices/msix.h vmm/devices/msix.c
