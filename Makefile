# Pigeon — plain Makefile. `make` builds release binaries into build/release/,
# `make check` builds with ASan+UBSan into build/asan/ and runs every test,
# `make run` starts pigeond with etc/pigeon.conf, `make fuzz` builds libFuzzer targets,
# `make install` (PREFIX, DESTDIR) installs the programs, manual pages, systemd unit and a
# default /etc/pigeon/pigeon.conf.

# Every core unless the command line says otherwise (make -jN); the recursive makes of `make check`
# get it from MAKEFLAGS.
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif

CC       ?= cc
PKGS     := libevent libevent_openssl libevent_pthreads openssl sqlite3 libcrypt libidn2 libnghttp2 zlib libbrotlienc jansson libcurl libxml-2.0 libarchive
MODE     ?= release
PYTHON   ?= /usr/bin/python3
CONF     ?= etc/pigeon.conf
FUZZTIME ?= 5
FUZZLONG ?= 60

ifeq ($(MODE),asan)
BUILD    ?= build/asan
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build/release
# Hardened release build (checked by tests/integration/test_hardening.py with checksec):
# stack canaries, fortified libc calls, PIE, full RELRO, non-executable stack.
OPT      := -O2 -g -fstack-protector-strong -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
endif
# One spelling of the build directory: an absolute BUILD inside this tree (the install tests pass
# one) is made relative, so the dependency files (-MMD) name the same targets as the rules and a
# changed header rebuilds its objects whichever way make was called.
override BUILD := $(patsubst $(CURDIR)/%,%,$(abspath $(BUILD)))

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CFLAGS   := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -Isrc -Itests $(PKG_CFLAGS) $(OPT) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS  := $(OPT) $(HARDEN_LDFLAGS)

# Every .c under src/ except the two programs' entry points goes into one static library.
LIB_SRCS := $(filter-out src/daemon/main.c src/cli/main.c, $(wildcard src/*/*.c src/*/*/*.c src/*/*/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libpigeon.a

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FAKE_SRCS  := $(wildcard tests/fakes/*.c)
FAKE_OBJS  := $(FAKE_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps deps-test install deb man run check unit integration layers fuzz fuzz-smoke fuzz-long fuzz-selftest clean bench demo

all: $(BUILD)/pigeond $(BUILD)/pigeon

# Objects depend on the flags they were built with: a changed flag (a new hardening option, a
# MODE's OPT) rebuilds them rather than linking stale objects.
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_NOW   := $(CC) $(CFLAGS) | $(LDFLAGS)
$(shell mkdir -p $(BUILD) && (echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP)))

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
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
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

# Start pigeond in the foreground with the sample domain hamburger.edu (users alice and bob).
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/sample-setup.sh $(BUILD) $(CONF)
	@echo "pigeon: web site http://127.0.0.1:8080/ (TLS, HTTP/2: https://127.0.0.1:8443/)"
	@echo "pigeon: web cache (HTTP proxy) on 127.0.0.1:3128: curl -x http://127.0.0.1:3128 URL"
	@echo "pigeon: webmail http://127.0.0.1:8080/mail/ (alice / crepes), JMAP at /.well-known/jmap"
	exec $(BUILD)/pigeond -c $(CONF)

# The whole test suite under ASan+UBSan; the last line is pytest's summary.
check: deps-test
	@$(MAKE) --no-print-directory MODE=asan all unit-bins
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory MODE=asan unit
	@$(MAKE) --no-print-directory fuzz-selftest
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory MODE=asan integration

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t; done

# The integration files run in INTEGRATION_JOBS pytest-xdist workers, a whole file per worker
# (its module fixtures stay shared); each worker enters a network namespace of its own
# (conftest.py), so their addresses and ports never meet. Most of a test is waiting for a
# daemon or a client, so on 2 cores 4 workers take about a third of one's time.
# INTEGRATION_JOBS=0 runs them in one process.
INTEGRATION_JOBS ?= 4
integration: all
	PIGEON_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider --durations=25 \
		$(if $(filter 0,$(INTEGRATION_JOBS)),,-n $(INTEGRATION_JOBS) --dist loadfile) tests/integration

layers:
	@scripts/check-layers.sh

# libFuzzer targets: one per parser, built with clang against a clang-built copy of the library.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
# -fno-sanitize-recover: a UBSan report aborts the fuzzer (a finding), not a line in its log.
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -Itests $(PKG_CFLAGS) -fno-sanitize-recover=undefined
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS) $(FAKE_SRCS))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

build/fuzz/libfuzzpigeon.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libfuzzpigeon.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libfuzzpigeon.a $(PKG_LIBS)

# Targets whose upstream DNS answers come from the fuzz input (tests/fuzz/upstream: a struct
# dns_io_ops for the resolver and the server stub).
FUZZ_UPSTREAM := build/fuzz/fuzz_spf build/fuzz/fuzz_dns_resolver
FUZZ_UPSTREAM_OBJ := build/fuzz/obj/tests/fuzz/upstream/fuzz_upstream.o
$(FUZZ_UPSTREAM): build/fuzz/%: tests/fuzz/%.c $(FUZZ_UPSTREAM_OBJ) build/fuzz/libfuzzpigeon.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_UPSTREAM_OBJ) build/fuzz/libfuzzpigeon.a $(PKG_LIBS)

fuzz: $(FUZZ_BINS)

# Each target FUZZTIME seconds; fails on any crash, leak or UBSan report (scripts/fuzz-smoke.sh).
fuzz-smoke: $(FUZZ_BINS)
	@scripts/fuzz-smoke.sh $(FUZZTIME) $(FUZZ_BINS)

# The same, longer (FUZZLONG seconds per target), printing the executions per target.
fuzz-long: $(FUZZ_BINS)
	@scripts/fuzz-smoke.sh $(FUZZLONG) $(FUZZ_BINS)

# Proof that fuzz-smoke fails on a planted crash, leak and UBSan report (a test-only target).
build/fuzz/fuzz_planted: tests/fuzz/selftest/fuzz_planted.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $<

fuzz-selftest: build/fuzz/fuzz_planted
	@tests/fuzz/selftest.sh

# The textbook scenario across two mail domains on 127.0.53.x (needs root: ports 25 and 53).
demo: deps-test
	@$(MAKE) --no-print-directory all
	PIGEON_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/demo.py
	PIGEON_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/demo_dhcp.py

# ---- install: programs, manual pages, systemd unit, default configuration, fail2ban filter.
VERSION     := $(shell sed -n 's/^\#define PIGEON_VERSION "\(.*\)"/\1/p' src/core/version.h)
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/pigeon
# The webmail's static files ([jmap] webmail points here in an installed configuration).
WWWDIR      ?= $(PREFIX)/share/pigeon/www
SYSCONFDIR  ?= /etc
# systemd reads /lib/systemd/system for /usr and $(PREFIX)/lib/systemd/system for /usr/local.
SYSTEMDDIR  ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd,$(PREFIX)/lib/systemd)
UNITDIR     ?= $(SYSTEMDDIR)/system
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,$(PREFIX)/lib/sysusers.d)
SUBST       := sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
               -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@UNITDIR@|$(UNITDIR)|g'
MAN_PAGES   := $(BUILD)/man/pigeond.8 $(BUILD)/man/pigeon.1 $(BUILD)/man/pigeon.conf.5
# The unit and the pages name the install paths: made again whenever PREFIX & co. change
# (an install to /usr/local must not leave its paths to a later DESTDIR install to /usr).
PATHS_STAMP := $(BUILD)/paths.stamp
PATHS_NOW   := $(VERSION) $(SBINDIR) $(BINDIR) $(SYSCONFDIR) $(UNITDIR)
$(shell mkdir -p $(BUILD) && (echo '$(PATHS_NOW)' | cmp -s - $(PATHS_STAMP) || echo '$(PATHS_NOW)' > $(PATHS_STAMP)))

$(BUILD)/man/pigeond.8: man/pigeond.8.in src/core/version.h Makefile $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	$(SUBST) $< > $@

# pigeon(1) lists the commands exactly as `pigeon --help` prints them.
$(BUILD)/man/pigeon.1: man/pigeon.1.in $(BUILD)/pigeon Makefile $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	$(BUILD)/pigeon --help | sed -n '/^commands:/,/^$$/p' | sed -e '1d' -e '$$d' -e 's/\\/\\e/g' \
	    > $@.commands
	$(SUBST) $< | sed -e '/@COMMANDS@/{r $@.commands' -e 'd}' > $@
	@rm -f $@.commands

# pigeon.conf(5) is docs/config.md turned into roff.
$(BUILD)/man/pigeon.conf.5: docs/config.md scripts/config-man.py src/core/version.h
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/config-man.py $< $(VERSION) > $@

$(BUILD)/pigeond.service: etc/systemd/pigeond.service.in Makefile $(PATHS_STAMP)
	$(SUBST) $< > $@

man: $(MAN_PAGES)

install: all $(MAN_PAGES) $(BUILD)/pigeond.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/pigeon \
	    $(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d $(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d \
	    $(DESTDIR)$(WWWDIR)/mail
	install -m 0755 $(BUILD)/pigeond $(DESTDIR)$(SBINDIR)/pigeond
	install -m 0755 $(BUILD)/pigeon $(DESTDIR)$(BINDIR)/pigeon
	install -m 0644 $(BUILD)/man/pigeon.1 $(DESTDIR)$(MANDIR)/man1/pigeon.1
	install -m 0644 $(BUILD)/man/pigeon.conf.5 $(DESTDIR)$(MANDIR)/man5/pigeon.conf.5
	install -m 0644 $(BUILD)/man/pigeond.8 $(DESTDIR)$(MANDIR)/man8/pigeond.8
	install -m 0644 $(BUILD)/pigeond.service $(DESTDIR)$(UNITDIR)/pigeond.service
	install -m 0644 etc/systemd/pigeon.sysusers $(DESTDIR)$(SYSUSERSDIR)/pigeon.conf
	install -m 0644 etc/fail2ban/filter.d/pigeon.conf $(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d/
	install -m 0644 etc/fail2ban/jail.d/pigeon.conf $(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d/
	install -m 0644 README.md docs/config.md docs/architecture.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 www/mail/* $(DESTDIR)$(WWWDIR)/mail/
	@# An administrator's configuration is never overwritten.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/pigeon/pigeon.conf ]; then \
	    echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/pigeon/pigeon.conf"; \
	else \
	    install -m 0640 etc/pigeon.conf.default $(DESTDIR)$(SYSCONFDIR)/pigeon/pigeon.conf; \
	fi
	@# On the live system (no DESTDIR) as root: create the pigeon user, let it read the config.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    if command -v systemd-sysusers >/dev/null; then \
	        systemd-sysusers $(SYSUSERSDIR)/pigeon.conf; \
	    elif ! getent passwd pigeon >/dev/null; then \
	        useradd --system --home-dir /var/lib/pigeon --shell /usr/sbin/nologin pigeon; \
	    fi; \
	    chgrp pigeon $(SYSCONFDIR)/pigeon/pigeon.conf; \
	    install -d -o pigeon -g pigeon -m 0750 /var/lib/pigeon; \
	fi

# The Debian package (debian/): dpkg-buildpackage -us -uc -b in a scratch copy of the tree;
# the .deb goes to build/deb/.
deb:
	scripts/build-deb.sh $(CURDIR)/build/deb

bench: all
	bench/smtp.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/daemon/main.d $(BUILD)/src/cli/main.d
# Header dependencies of the fuzz objects (a struct changed in a header rebuilds its users).
-include $(FUZZ_OBJS:.o=.d)
