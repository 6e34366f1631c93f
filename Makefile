# SPDX-License-Identifier: GPL-2.0
# nodepath: one flat Makefile. Every output goes to build/. `make V=1` is loud.

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
ARCH_INC ?= /usr/include/$(shell $(CC) -dumpmachine)

B := build
INC := -I. -Iinclude -Icontrol -I$(B)/skel

WERR := -Wall -Wextra -Werror
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 $(WERR) -Wno-unused-parameter \
	-Iinclude -idirafter $(ARCH_INC) -D__TARGET_ARCH_x86
CFLAGS ?= -O2 -g
CFLAGS += $(WERR) -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE $(INC) \
	-MMD -MP -fstack-protector-strong -D_FORTIFY_SOURCE=2
LIBS := -lxdp -lbpf -lelf -lz -lmnl -ljson-c -lyaml -luring -lpthread

# ---- BPF objects and skeletons ------------------------------------------
BPF_SRCS := $(wildcard xdp/*.bpf.c tc/*.bpf.c bench/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(B)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS := $(patsubst %.bpf.c,$(B)/skel/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_HDRS := $(wildcard include/nodepath/*.h include/nodepath/bpf/*.h)

vpath %.bpf.c xdp tc bench

$(B)/bpf/%.bpf.o: %.bpf.c $(BPF_HDRS) | $(B)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/skel/%.skel.h: $(B)/bpf/%.bpf.o | $(B)/skel
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<)) > $@.tmp && mv $@.tmp $@

# ---- libnodepath and the CLI --------------------------------------------
LIB_SRCS := $(wildcard control/*.c afxdp/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
CLI_SRCS := $(wildcard control/cli/*.c)
CLI_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRCS))
LIBNP := $(B)/libnodepath.a

$(B)/obj/%.o: %.c $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBNP): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/nodepath: $(CLI_OBJS) $(LIBNP)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(LIBNP) $(LIBS)

# ---- tests --------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(B)/tests/bpf/%,$(BPFT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRCS))
TEST_COMMON := $(wildcard tests/common/*.c)

$(B)/tests/unit/%: tests/unit/%.c $(LIBNP) $(TEST_COMMON)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TEST_COMMON) -o $@ $(LIBNP) -lcmocka $(LIBS)

$(B)/tests/bpf/%: tests/bpf/%.c $(LIBNP) $(TEST_COMMON) $(BPF_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TEST_COMMON) -o $@ $(LIBNP) -lcmocka $(LIBS)

$(B)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIBS)

# ---- fuzz targets: tests/fuzz/fuzz_<t>.c -> build/tests/fuzz/fuzz_<t> ----------
# libFuzzer + ASan + UBSan, only when clang's fuzzer runtime is installed. The
# parsers under test are rebuilt into each target with the sanitizers and coverage
# (FUZZ_SUT); whatever else they call comes uninstrumented from libnodepath.a.
FUZZ_RT := $(wildcard $(shell $(CLANG) -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$(shell uname -m).a)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(if $(FUZZ_RT),$(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS)))
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(WERR) -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	$(INC) -Itests
FUZZ_SUT = $(filter control/%.c,$(shell sed -n 's|^ \* fuzz-sut: *||p' $(1)))

$(B)/tests/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIBNP) $(BPF_HDRS)
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(call FUZZ_SUT,$<) -o $@ $(LIBNP) $(LIBS)


# ---- benchmarks: bench/<name>.c -> build/bench/<name> ---------------------
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

$(B)/bench/%: bench/%.c $(LIBNP) $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIBNP) $(LIBS)
$(B)/bpf $(B)/skel:
	$(Q)mkdir -p $@

# ---- top-level targets --------------------------------------------------
# BPF objects and skeletons are intermediates of chained rules; the bpf tests load the
# objects and the skeletons are inputs of every build: keep both.
.SECONDARY: $(BPF_OBJS) $(SKELS)

.PHONY: all deps test test-unit test-bpf test-e2e test-vm fuzz demo bench format format-check install clean

all: $(BPF_OBJS) $(B)/nodepath $(UNIT_BINS) $(BPFT_BINS) $(TOOL_BINS) $(BENCH_BINS) $(FUZZ_BINS)

deps:
	$(Q)bash scripts/deps.sh

# Each tier writes TAP into build/test-results/<tier>.tap; the summary sums them.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)rm -rf $(B)/test-results
	-$(Q)bash scripts/run-tier.sh unit
	-$(Q)bash scripts/run-tier.sh bpf
	-$(Q)bash scripts/run-tier.sh e2e
	-$(Q)bash scripts/run-tier.sh vm
	-$(Q)bash scripts/run-tier.sh fuzz
	$(Q)bash scripts/test-summary.sh $(B)/test-results

test-unit test-bpf test-e2e test-vm: all
	$(Q)rm -f $(B)/test-results/$(@:test-%=%).tap
	-$(Q)bash scripts/run-tier.sh $(@:test-%=%)
	$(Q)bash scripts/test-summary.sh $(B)/test-results $(@:test-%=%)

# The fuzz tier alone (NP_FUZZ_SECONDS per target, default 20).
fuzz: $(FUZZ_BINS)
	$(Q)rm -f $(B)/test-results/fuzz.tap
	-$(Q)bash scripts/run-tier.sh fuzz
	$(Q)bash scripts/test-summary.sh $(B)/test-results fuzz

demo: deps
	$(Q)$(MAKE) --no-print-directory $(B)/nodepath $(TOOL_BINS) $(BENCH_BINS)
	$(Q)bash scripts/demo.sh

# Every benchmark scenario (bench/scenarios/), results in build/bench-results;
# BENCH_ARGS passes more, e.g. make bench BENCH_ARGS="prefilter --rounds 6".
bench: deps
	$(Q)$(MAKE) --no-print-directory $(B)/nodepath $(BENCH_BINS)
	$(Q)$(B)/nodepath bench --out $(B)/bench-results $(BENCH_ARGS)

FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FMT_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(FMT_FILES)

install: $(B)/nodepath
	install -D -m 0755 $(B)/nodepath $(DESTDIR)/usr/local/sbin/nodepath

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
