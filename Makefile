# Pigeon — plain Makefile. `make` builds release binaries into build/release/,
# `make check` builds with ASan+UBSan into build/asan/ and runs every test,
# `make run` starts pigeond with etc/pigeon.conf, `make fuzz` builds libFuzzer targets.

CC       ?= cc
PKGS     := libevent libevent_openssl libevent_pthreads openssl sqlite3 libcrypt
MODE     ?= release
PYTHON   ?= /usr/bin/python3
CONF     ?= etc/pigeon.conf
FUZZTIME ?= 5

ifeq ($(MODE),asan)
BUILD    ?= build/asan
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build/release
OPT      := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CFLAGS   := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -Isrc -Itests $(PKG_CFLAGS) $(OPT) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS  := $(OPT)

# Every .c under src/ except the two programs' entry points goes into one static library.
LIB_SRCS := $(filter-out src/daemon/main.c src/cli/main.c, $(wildcard src/*/*.c src/*/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libpigeon.a

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FAKE_SRCS  := $(wildcard tests/fakes/*.c)
FAKE_OBJS  := $(FAKE_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps run check unit integration layers fuzz fuzz-smoke clean bench demo

all: $(BUILD)/pigeond $(BUILD)/pigeon

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pigeond: $(BUILD)/src/daemon/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/pigeon: $(BUILD)/src/cli/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(FAKE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(FAKE_OBJS) $(LIB) $(PKG_LIBS) -lcmocka

deps:
	@scripts/install-deps.sh

# Start pigeond in the foreground with the sample domain hamburger.edu (users alice and bob).
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/sample-setup.sh $(BUILD) $(CONF)
	exec $(BUILD)/pigeond -c $(CONF)

# The whole test suite under ASan+UBSan; the last line is pytest's summary.
check: deps
	@$(MAKE) --no-print-directory MODE=asan all unit-bins
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory MODE=asan unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory MODE=asan integration

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t; done

integration: all
	PIGEON_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

layers:
	@scripts/check-layers.sh

# libFuzzer targets: one per parser, built with clang against a clang-built copy of the library.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -Itests $(PKG_CFLAGS)
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS) $(FAKE_SRCS))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

build/fuzz/libfuzzpigeon.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libfuzzpigeon.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libfuzzpigeon.a $(PKG_LIBS)

fuzz: $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	  name=$$(basename $$f); mkdir -p build/fuzz/corpus-$$name; \
	  seeds=tests/fuzz/seeds/$$name; [ -d $$seeds ] || seeds=; \
	  echo "== $$name ($(FUZZTIME)s)"; \
	  $$f -max_total_time=$(FUZZTIME) -print_final_stats=0 build/fuzz/corpus-$$name $$seeds 2>&1 | tail -n 2; \
	done

# The textbook scenario across two mail domains on 127.0.53.x (needs root: ports 25 and 53).
demo: deps
	@$(MAKE) --no-print-directory all
	PIGEON_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/demo.py

bench: all
	bench/smtp.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/daemon/main.d $(BUILD)/src/cli/main.d
# Header dependencies of the fuzz objects (a struct changed in a header rebuilds its users).
-include $(FUZZ_OBJS:.o=.d)
