# vessel: the two commands are `make demo` and `make check`; both install
# what is missing first (scripts/deps.sh), so they work on a fresh Debian 12.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3
MESON_OPTS ?= -Dwerror=true
VESSEL     := $(BUILD)/vessel
GUEST_DIR  ?= $(HOME)/.cache/vessel/guest

.PHONY: all deps build demo check check-unit check-integration check-asan check-asan-run check-format guest guest-kernel bench clean format emu-fuzz

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD)
	@ln -sf vessel $(BUILD)/vessel-runc

guest: build
	@guest/mkkit.sh $(GUEST_DIR)

# The optional small guest kernel (guest/README.md "The small kernel"):
# Debian's linux-source-6.1 with guest/kernel/vessel.config, built once
# (several minutes; `nice`, 2 jobs) and cached in $(GUEST_DIR)/small.
# `VESSEL_GUEST_KERNEL=small vessel vm run ...` boots it with the kit's
# initramfs. Not part of `make check` (building it is not cheap).
guest-kernel: guest
	@guest/mkkernel.sh $(GUEST_DIR)

demo: build guest
	@scripts/demo.sh $(VESSEL)

# Every meson suite but integration (docs/testing.md: unit, kvm, root, fuzz,
# emu, style), which runs through pytest directly; then the unit and fuzz
# suites again under ASan/UBSan (build-asan/) and the format check. All
# write JUnit XML and scripts/summarize.py prints the closing line for CI.
MESON_SUITES := --no-suite integration
check: build guest
	@rm -f $(BUILD)/meson-logs/testlog.junit.xml $(BUILD)/pytest.xml $(BUILD)/format.xml \
	  $(ASAN_BUILD)/meson-logs/testlog.junit.xml
	-@meson test -C $(BUILD) $(MESON_SUITES) --print-errorlogs --num-processes 2 --no-rebuild
	-@VESSEL=$(abspath $(VESSEL)) VESSEL_BUILD=$(abspath $(BUILD)) \
	  VESSEL_GUEST_DIR=$(GUEST_DIR) \
	  $(PYTHON) -m pytest -q -rs tests/integration --junitxml=$(BUILD)/pytest.xml
	-@$(MAKE) --no-print-directory check-asan-run
	-@scripts/check-format.sh $(BUILD)/format.xml
	@$(PYTHON) scripts/summarize.py $(BUILD)/meson-logs/testlog.junit.xml $(BUILD)/pytest.xml \
	  $(ASAN_BUILD)/meson-logs/testlog.junit.xml $(BUILD)/format.xml

# The ASan/UBSan build (clang) of the unit and fuzz-corpus suites, and the
# asan suite: a Linux boot under emu (tests/asan/linux-boot.py).
check-asan-run:
	@[ -f $(ASAN_BUILD)/build.ninja ] || CC=clang meson setup $(ASAN_BUILD) \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dtestkernel=false
	@ninja -C $(ASAN_BUILD)
	-@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --suite unit --suite fuzz --suite asan --print-errorlogs --no-rebuild \
	  --num-processes 2

check-asan: deps check-asan-run
	@$(PYTHON) scripts/summarize.py $(ASAN_BUILD)/meson-logs/testlog.junit.xml

# clang-format --dry-run -Werror over every C file (.clang-format).
check-format:
	@scripts/check-format.sh

# The differential test of emu against the host CPU (tests/emu-diff), long
# and with a fresh seed; stops at the first mismatch and prints it.
emu-fuzz: build
	@$(BUILD)/tests/emu-diff/emu-diff --fuzz --seed $$(date +%s) --count 1000000

bench: build guest
	@bench/boot.sh $(VESSEL)

format:
	@scripts/check-format.sh --fix

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
