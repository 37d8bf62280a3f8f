# SPDX-License-Identifier: MIT
#
# hakmem top-level Makefile, Kbuild style.
#
#   make [-s] [O=dir] [ARCH=x86_64|aarch64] [CROSS_COMPILE=prefix] [V=1] <target>
#
# `make help` lists the targets.

# The version has one home, include/hakmem.h.
hakmem-version = $(shell sed -n 's/^\#define HAKMEM_VERSION_$(1) //p' $(dir $(lastword $(MAKEFILE_LIST)))include/hakmem.h)
VERSION    := $(call hakmem-version,MAJOR)
PATCHLEVEL := $(call hakmem-version,MINOR)
SUBLEVEL   := $(call hakmem-version,PATCH)
LIBVERSION := $(VERSION).$(PATCHLEVEL).$(SUBLEVEL)
SONAME     := libhakmem.so.$(VERSION)

MAKEFLAGS += -rR --no-print-directory
.SUFFIXES:
.DELETE_ON_ERROR:

# ---------------------------------------------------------------------------
# Verbosity: quiet one-line output by default, full commands with V=1,
# nothing but errors with make -s (make 4 keeps the one-letter options in
# the first word of MAKEFLAGS; the '-' keeps a long option out of it).
ifeq ($(V),1)
  Q :=
  quiet :=
else
  Q := @
  quiet := quiet_
endif
ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
  Q := @
  quiet := silent_
endif

# ---------------------------------------------------------------------------
# Source and object trees.  O=dir builds out of tree; the config, the
# generated headers and every output live under $(objtree).
srctree := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ifneq ($(O),)
  objtree := $(abspath $(O))
  $(shell mkdir -p $(objtree))
else
  objtree := $(srctree)
endif
KCONFIG_CONFIG := $(objtree)/.config

# ---------------------------------------------------------------------------
# Architecture.  Taken from ARCH=, else from an existing .config, else from
# the host.  A cross build defaults CROSS_COMPILE to the Debian triplet.
HOSTARCH := $(shell uname -m | sed -e 's/arm64/aarch64/' -e 's/amd64/x86_64/')
ifeq ($(ARCH),)
  ARCH := $(shell sed -n -e 's/^CONFIG_ARCH_AARCH64=y/aarch64/p' \
	-e 's/^CONFIG_ARCH_X86_64=y/x86_64/p' $(KCONFIG_CONFIG) 2>/dev/null)
endif
ifeq ($(ARCH),)
  ARCH := $(HOSTARCH)
endif
ifeq ($(ARCH),arm64)
  override ARCH := aarch64
endif
SRCARCH := $(ARCH)
ifeq ($(wildcard $(srctree)/arch/$(SRCARCH)/Kconfig),)
  $(error ARCH=$(ARCH) is not supported: use x86_64 or aarch64)
endif
ifneq ($(ARCH),$(HOSTARCH))
  CROSS_COMPILE ?= $(ARCH)-linux-gnu-
endif
export ARCH SRCARCH srctree KCONFIG_CONFIG

CC      := $(CROSS_COMPILE)gcc
AR      := $(CROSS_COMPILE)ar
OBJDUMP := $(CROSS_COMPILE)objdump
PYTHON  := /usr/bin/python3
PKG_CONFIG ?= pkg-config
ifneq ($(CROSS_COMPILE),)
  # Multiarch .pc files of the target (Debian's check:arm64, for example).
  CROSS_PKG_CONFIG_PATH := /usr/lib/$(ARCH)-linux-gnu/pkgconfig
  PKG_CONFIG := PKG_CONFIG_LIBDIR=$(CROSS_PKG_CONFIG_PATH) pkg-config
endif

# Run-time wrapper for test binaries: qemu for a cross build.
# QEMU_PAGE=65536 makes qemu report 64 KiB pages (it does not enforce them).
ifneq ($(ARCH),$(HOSTARCH))
  TEST_RUNNER ?= qemu-$(ARCH) $(if $(QEMU_PAGE),-p $(QEMU_PAGE))
endif
TEST_TIMEOUT ?= 600

# ---------------------------------------------------------------------------
# Targets that need no configuration.
config-targets := defconfig %_defconfig menuconfig olddefconfig savedefconfig \
	allnoconfig allyesconfig randconfig checkdefconfig
no-config-targets := $(config-targets) clean mrproper help deps install-deps \
	check check-full bench bench-instr bench-scaling bench-phases bench-lib fuzz randconfig-check

need-config := 1
ifneq ($(MAKECMDGOALS),)
  ifeq ($(filter-out $(no-config-targets),$(MAKECMDGOALS)),)
    need-config :=
  endif
endif

PHONY := all
all:

# ---------------------------------------------------------------------------
# Kconfig, through Debian's python3-kconfiglib (which installs no commands).
# Each config target prints one GEN line, like a compile (see cmd below).
KCONFIG := $(srctree)/Kconfig
KCONF_ENV := srctree=$(srctree) SRCARCH=$(SRCARCH) KCONFIG_CONFIG=$(KCONFIG_CONFIG)
KCONF_TOOL := $(srctree)/scripts/kconfig.py
KCONF = $(KCONF_ENV) $(PYTHON) $(KCONF_TOOL)

PHONY += defconfig menuconfig olddefconfig savedefconfig allnoconfig \
	allyesconfig randconfig checkdefconfig
release-defconfig := $(if $(filter aarch64,$(ARCH)),aarch64_release_defconfig,release_defconfig)
defconfig: $(release-defconfig)

quiet_cmd_defconfig = GEN     .config from $@ ($(ARCH))
      cmd_defconfig = $(KCONF) load $(srctree)/defconfigs/$@

%_defconfig: FORCE
	@test -f $(srctree)/defconfigs/$@ || { echo "no such defconfig: $@" >&2; exit 1; }
	$(call cmd,defconfig)

menuconfig:
	$(Q)cd $(objtree) && $(KCONF_ENV) $(PYTHON) -m menuconfig $(KCONFIG)

quiet_cmd_olddefconfig = GEN     .config (olddefconfig, $(ARCH))
      cmd_olddefconfig = $(KCONF) olddefconfig

olddefconfig:
	$(call cmd,olddefconfig)

quiet_cmd_savedefconfig = GEN     $(objtree)/defconfig
      cmd_savedefconfig = $(KCONF) savedefconfig $(objtree)/defconfig

savedefconfig:
	$(call cmd,savedefconfig)

quiet_cmd_allconfig = GEN     .config ($@, $(ARCH))
      cmd_allconfig = $(KCONF) $@

allnoconfig allyesconfig:
	$(call cmd,allconfig)

# SEED=n reproduces a randconfig; without it make picks one and shows it.
ifneq ($(filter randconfig,$(MAKECMDGOALS)),)
  override SEED := $(or $(SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))
endif
quiet_cmd_randconfig = GEN     .config (randconfig, SEED=$(SEED), $(ARCH))
      cmd_randconfig = $(KCONF) randconfig $(SEED)

randconfig:
	$(call cmd,randconfig)

checkdefconfig:
	$(Q)$(PYTHON) $(KCONF_TOOL) checkdefconfig $(srctree)/defconfigs

# A build with no .config starts from the architecture's release defconfig.
quiet_cmd_bootconfig = GEN     .config from $(release-defconfig) ($(ARCH), there was no .config)
      cmd_bootconfig = $(KCONF) load $(srctree)/defconfigs/$(release-defconfig)

$(KCONFIG_CONFIG):
	$(call cmd,bootconfig)

# syncconfig writes what the build reads of .config: autoconf.h, auto.conf
# (included below) and the include/config/ files that make a changed option
# rebuild only the objects that use it (scripts/kconfig.py, fixdep below).
# It runs when .config or one of the Kconfig files it parsed last time
# (listed in auto.conf.cmd) changes, and always when auto.conf.cmd is
# missing.  kconfiglib leaves a file alone when its contents do not change;
# auto.conf is touched to be newer than .config.
AUTOCONF := $(objtree)/include/generated/autoconf.h
AUTOCONF_MK := $(objtree)/include/config/auto.conf
KCONFIG_DEPS := $(objtree)/include/config

quiet_cmd_syncconfig = SYNC    include/config/auto.conf
      cmd_syncconfig = mkdir -p $(dir $(AUTOCONF)) $(KCONFIG_DEPS); \
	$(KCONF) syncconfig $(AUTOCONF) $(KCONFIG_DEPS); touch $@

ifneq ($(need-config),)
-include $(AUTOCONF_MK).cmd
endif
$(AUTOCONF_MK): $(KCONFIG_CONFIG) $(or $(kconfig-files),FORCE)
	$(call cmd,syncconfig)
$(AUTOCONF): $(AUTOCONF_MK)
# The build's config as a string (hak_config()), written with autoconf.h;
# a build tree from before it had one syncs again.
CONFIG_STRING_H := $(objtree)/include/generated/config_string.h
$(CONFIG_STRING_H): $(AUTOCONF_MK)
	$(if $(wildcard $@),,$(call cmd,syncconfig))

# The size-class table follows the slab geometry of the config: its
# command line holds both shifts, so a change of either regenerates it.
CLASSES_H := $(objtree)/include/generated/classes.h
quiet_cmd_classes = GEN     include/generated/classes.h
      cmd_classes = $(PYTHON) $(srctree)/scripts/gen-classes.py $(CONFIG_SUPERSLAB_SHIFT) \
	$(CONFIG_SLAB_SHIFT) header $@; touch $@

$(CLASSES_H): $(srctree)/scripts/gen-classes.py FORCE | $(AUTOCONF)
	$(call if_changed,classes)

ifneq ($(need-config),)
-include $(AUTOCONF_MK)
endif

# ---------------------------------------------------------------------------
# Compiler flags.
#
# The library must never call itself through the PLT and gcc must not turn
# malloc+memset into calloc (which would recurse): hence -fno-builtin-* and
# -fno-semantic-interposition, with internal calls through hidden names.
# Static TLS is kept to a pointer, in the initial-exec model.
ARCH_CFLAGS-x86_64 :=
ARCH_CFLAGS-aarch64 := $(if $(CONFIG_ARM64_ATOMICS_LSE),-march=armv8.1-a+lse -mno-outline-atomics) \
	$(if $(CONFIG_ARM64_ATOMICS_LLSC),-mno-outline-atomics) \
	$(if $(CONFIG_ARM64_ATOMICS_OUTLINE),-moutline-atomics)

NOBUILTIN := -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc \
	-fno-builtin-realloc -fno-builtin-posix_memalign -fno-builtin-aligned_alloc
WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
CPPFLAGS := -I$(objtree)/include -I$(srctree)/include \
	-I$(srctree)/arch/$(SRCARCH)/include -I$(srctree) -D_GNU_SOURCE
CFLAGS := -std=gnu11 -O2 -g -pthread $(WARNINGS) $(NOBUILTIN) \
	$(ARCH_CFLAGS-$(ARCH)) $(KCFLAGS)
LIB_CFLAGS := $(CFLAGS) -fPIC -fvisibility=hidden -fno-semantic-interposition \
	-ftls-model=initial-exec -fno-plt -fno-stack-protector
LDFLAGS := -pthread $(KLDFLAGS)

# ---------------------------------------------------------------------------
# Kbuild helpers: a changed command line rebuilds its target.  Each target
# records its command in a .cmd file next to it.
squote := '
empty :=
space := $(empty) $(empty)
escsq = $(subst $(squote),'\$(squote)',$1)
dot-target = $(dir $@).$(notdir $@)
echo-cmd = $(if $($(quiet)cmd_$(1)),echo '  $(call escsq,$($(quiet)cmd_$(1)))';)
cmd = @set -e; $(echo-cmd) $(cmd_$(1))
make-cmd = $(call escsq,$(subst $$,$$$$,$(subst \#,\\\#,$(cmd_$(1)))))
any-prereq = $(filter-out FORCE,$?) $(filter-out FORCE $(wildcard $^),$^)
cmd-changed = $(filter-out $(subst $(space),^,$(strip $(cmd_$(1)))), \
	$(subst $(space),^,$(strip $(savedcmd_$@))))$(filter-out \
	$(subst $(space),^,$(strip $(savedcmd_$@))),$(subst $(space),^,$(strip $(cmd_$(1)))))
if_changed = $(if $(strip $(any-prereq) $(cmd-changed)), \
	@set -e; $(echo-cmd) $(cmd_$(1)); \
	printf '%s\n' 'savedcmd_$@ := $(make-cmd)' > $(dot-target).cmd, @:)

# ---------------------------------------------------------------------------
# Objects.  Each directory's Makefile adds to obj-y, with names relative to
# that directory: `obj-$(CONFIG_X) += file.o` for an object and
# `obj-$(CONFIG_X) += dir/` for a subdirectory, which is descended into in
# turn (a disabled one is not).  The walk starts from core-y.
core-y := lib/ arch/$(SRCARCH)/ mm/
define descend
obj-y :=
include $(srctree)/$(1)Makefile
lib-objs += $$(addprefix $(1),$$(filter %.o,$$(obj-y)))
subdirs-$(1) := $$(addprefix $(1),$$(filter %/,$$(obj-y)))
$$(foreach sub,$$(subdirs-$(1)),$$(eval $$(call descend,$$(sub))))
endef
lib-objs :=
ifneq ($(need-config),)
$(foreach d,$(core-y),$(eval $(call descend,$(d))))
endif
lib-objs := $(addprefix $(objtree)/,$(lib-objs))

LIB_SO := $(objtree)/libhakmem.so
LIB_A  := $(objtree)/libhakmem.a
HAKMEM_PC := $(objtree)/hakmem.pc

# An object (and a test program) depends on the include/config/ files of
# the options that its source and headers mention, not on autoconf.h:
# scripts/fixdep.py rewrites the compiler's .d file so after each compile.
# The generated headers only have to exist first: their users list them in
# their .d files.
fixdep = $(PYTHON) $(srctree)/scripts/fixdep.py $(1) $(KCONFIG_DEPS)

quiet_cmd_cc_o_c = CC      $(patsubst $(objtree)/%,%,$@)
      cmd_cc_o_c = $(CC) $(CPPFLAGS) $(LIB_CFLAGS) -MMD -MP -MF $(@:.o=.d) -c -o $@ $<; \
	$(call fixdep,$(@:.o=.d))

$(objtree)/%.o: $(srctree)/%.c FORCE | $(AUTOCONF) $(CONFIG_STRING_H) $(CLASSES_H)
	@mkdir -p $(dir $@)
	$(call if_changed,cc_o_c)

# Only the hak_* API (and, with CONFIG_OVERRIDE, the malloc family) leaves
# the shared object: everything else is hidden.
# Sanitizer builds leave the sanitizer runtime to the executable, so they
# cannot insist on a fully resolved shared object (or link tests -static).
sanitize := $(findstring -fsanitize,$(KCFLAGS) $(KLDFLAGS))
quiet_cmd_link_so = LD      $(notdir $@)
      cmd_link_so = $(CC) -shared -Wl,-soname,$(SONAME) -Wl,-z,nodelete \
	$(if $(sanitize),,-Wl,--no-undefined) -o $@ $(lib-objs) $(LDFLAGS)

$(LIB_SO): $(lib-objs) FORCE
	$(call if_changed,link_so)

quiet_cmd_ar = AR      $(notdir $@)
      cmd_ar = rm -f $@; $(AR) rcs $@ $(lib-objs)

$(LIB_A): $(lib-objs) FORCE
	$(call if_changed,ar)

quiet_cmd_pc = GEN     $(notdir $@)
      cmd_pc = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(LIBVERSION)|g' \
	$(srctree)/scripts/hakmem.pc.in > $@

$(HAKMEM_PC): $(srctree)/scripts/hakmem.pc.in FORCE
	$(call if_changed,pc)

all: $(LIB_SO) $(LIB_A) $(HAKMEM_PC)

# ---------------------------------------------------------------------------
# Unit tests: every tests/test-*.c is one Check program, linked statically
# against libhakmem.a.  Test files are built with -fno-builtin-malloc and
# friends so gcc does not move allocations around counters.
test-srcs := $(sort $(wildcard $(srctree)/tests/test-*.c))
test-bins := $(patsubst $(srctree)/tests/%.c,$(objtree)/tests/%,$(test-srcs))
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# tests/test-static-*.c link with -static: a missing glibc malloc entry
# point would pull glibc's malloc.o in and fail on duplicate symbols.
CHECK_STATIC_LIBS = $(shell $(PKG_CONFIG) --static --libs check 2>/dev/null)
test-static = $(if $(sanitize),,$(filter test-static-%,$(notdir $@)))
quiet_cmd_test_bin = CC      $(patsubst $(objtree)/%,%,$@)
      cmd_test_bin = $(CC) $(CPPFLAGS) -I$(srctree)/tests $(CFLAGS) $(NOBUILTIN) \
	$(CHECK_CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(LIB_A) \
	$(if $(test-static),$(CHECK_STATIC_LIBS) -static,$(CHECK_LIBS)) $(LDFLAGS) -lm; \
	$(call fixdep,$@.d)

$(objtree)/tests/%: $(srctree)/tests/%.c $(LIB_A) FORCE
	@mkdir -p $(dir $@)
	$(call if_changed,test_bin)

PHONY += tests unit
tests: all $(test-bins)

# Runs the unit tests of the current config (under qemu for a cross build).
unit: tests
	$(Q)TEST_RUNNER='$(TEST_RUNNER)' TEST_TIMEOUT=$(TEST_TIMEOUT) \
		$(srctree)/scripts/run-tests.sh $(objtree) $(test-bins)

# Static checks on the built library: syscalls only in the OS layer, inline
# asm only under arch/, no atomic RMW on the same-thread fast paths, and only
# the API exported.
PHONY += lint
lint: all
	$(Q)OBJDUMP=$(OBJDUMP) $(srctree)/scripts/check-tree.sh $(objtree)

# ---------------------------------------------------------------------------
# Test and benchmark drivers.
PHONY += check check-full deps install-deps bench bench-instr bench-scaling bench-phases bench-lib fuzz \
	randconfig-check
deps install-deps:
	$(Q)$(srctree)/scripts/deps.sh

check:
	$(Q)$(srctree)/scripts/deps.sh --if-missing
	$(Q)$(srctree)/scripts/check.sh

check-full:
	$(Q)$(srctree)/scripts/deps.sh --if-missing
	$(Q)CHECK_FULL=1 $(srctree)/scripts/check.sh

randconfig-check:
	$(Q)$(srctree)/scripts/deps.sh --if-missing
	$(Q)$(srctree)/scripts/randconfig-check.sh $(or $(N),20) $(SEED)

BENCH_OUT ?= $(srctree)/build/bench
# The library every benchmark preloads: bench_defconfig in $(BENCH_OUT)/lib.
bench-lib:
	$(Q)$(srctree)/scripts/deps.sh --if-missing
	$(Q)$(MAKE) -C $(srctree) O=$(BENCH_OUT)/lib bench_defconfig
	$(Q)$(MAKE) -C $(srctree) O=$(BENCH_OUT)/lib all

bench bench-instr bench-scaling bench-phases: bench-lib
	$(Q)LIBHAKMEM=$(BENCH_OUT)/lib/libhakmem.so BENCH_OUT=$(BENCH_OUT) \
		$(srctree)/scripts/$(if $(filter bench,$@),bench,$@).sh

fuzz:
	$(Q)$(srctree)/scripts/fuzz.sh $(or $(FUZZ_SECONDS),60)

# ---------------------------------------------------------------------------
# Installation.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PHONY += install
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libhakmem.so.$(LIBVERSION)
	ln -sf libhakmem.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libhakmem.so
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libhakmem.a
	install -m 644 $(srctree)/include/hakmem.h $(DESTDIR)$(INCLUDEDIR)/hakmem.h
	install -m 644 $(HAKMEM_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/hakmem.pc

# ---------------------------------------------------------------------------
PHONY += clean mrproper help
clean:
	$(Q)find $(objtree) \( -name '*.o' -o -name '*.d' -o -name '.*.cmd' \) \
		-not -path '*/.git/*' -delete
	$(Q)rm -f $(test-bins) $(LIB_SO) $(LIB_A) $(HAKMEM_PC)

mrproper: clean
	$(Q)rm -rf $(objtree)/.config $(objtree)/.config.old $(objtree)/include/generated \
		$(objtree)/include/config $(objtree)/defconfig $(srctree)/build

help:
	@echo 'Configuration:'
	@echo '  defconfig           - release config for the host (or ARCH=) architecture'
	@echo '  <name>_defconfig    - load defconfigs/<name>_defconfig:'
	@ls $(srctree)/defconfigs | sed 's/^/                          /'
	@echo '  menuconfig          - edit .config in a terminal menu'
	@echo '  olddefconfig        - update .config, new options at their defaults'
	@echo '  savedefconfig       - write a minimal defconfig to $$O/defconfig'
	@echo '  allnoconfig         - every option off'
	@echo '  allyesconfig        - every option on'
	@echo '  randconfig          - random valid config (SEED=n to reproduce)'
	@echo '  checkdefconfig      - check that no defconfig line is silently dropped'
	@echo 'Build:'
	@echo '  all                 - libhakmem.so, libhakmem.a, hakmem.pc (default)'
	@echo '  tests               - build the unit tests of the current config'
	@echo '  unit                - build and run the unit tests of the current config'
	@echo '  lint                - static checks of the tree and the built library'
	@echo '  install             - install to $$DESTDIR$$PREFIX (default /usr/local)'
	@echo 'Test and measure:'
	@echo '  check               - everything CI runs (installs missing packages first)'
	@echo '  check-full          - longer stress, fuzz and random-config runs'
	@echo '  randconfig-check    - N random configs (N=20, SEED=) built and tested'
	@echo '  fuzz                - libFuzzer run for FUZZ_SECONDS (default 60)'
	@echo '  bench               - benchmarks against glibc and the peers (QUICK=1, BENCH=, RUNS=)'
	@echo '  bench-instr         - callgrind instructions per malloc+free pair'
	@echo '  bench-phases        - bench/phases: adaptive engine against fixed cache sizes'
	@echo '  bench-scaling       - multi-thread benchmarks at THREADS="1 2 4 8 16" (RUNS=, BENCH=, ALLOCS=)'
	@echo '  deps                - install the Debian packages the project needs'
	@echo 'Housekeeping:'
	@echo '  clean               - remove build outputs, keep the config'
	@echo '  mrproper            - remove build outputs, the config and build/'
	@echo 'Variables: O=dir ARCH=x86_64|aarch64 CROSS_COMPILE=prefix V=1 KCFLAGS= KLDFLAGS='

PHONY += FORCE
FORCE:

.PHONY: $(PHONY)

# Dependencies and recorded command lines of what was built before.
ifneq ($(need-config),)
-include $(lib-objs:.o=.d) $(test-bins:=.d)
-include $(foreach f,$(lib-objs) $(test-bins) $(LIB_SO) $(LIB_A) $(HAKMEM_PC) $(CLASSES_H),$(dir $(f)).$(notdir $(f)).cmd)
endif
