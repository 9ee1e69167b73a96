# lzr: one build for the coordinator, the worker, their tests, fuzzers and benchmarks.
# `make` builds bin/lzr-coord and bin/lzr-worker; `make SANITIZE=1` builds the same with ASan and
# UBSan under build/san/. The protobuf-c sources are generated from proto/lzr.proto here.

CC      ?= cc
FUZZCC  ?= clang
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD   := build/san
BINDIR  := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   := build/rel
BINDIR  := bin
SANFLAGS :=
endif

# EXTRA_* add to the flags without replacing them (the Debian build passes dpkg-buildflags).
CPPFLAGS := -D_GNU_SOURCE -I. -I$(BUILD) $(EXTRA_CPPFLAGS)
CFLAGS   := -std=gnu11 -O2 -g -Wall -Wextra -Werror $(SANFLAGS) $(EXTRA_CFLAGS)
GENFLAGS := -std=gnu11 -O2 -g $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS   := -lczmq -lzmq -lsodium -lpcap -lprotobuf-c -lsqlite3 -lpthread -lm
COORD_LDLIBS := -lmicrohttpd # the coordinator's /metrics server

PROTO_C  := $(BUILD)/proto/lzr.pb-c.c
PROTO_H  := $(BUILD)/proto/lzr.pb-c.h
PROTO_O  := $(BUILD)/proto/lzr.pb-c.o

COMMON_SRC := $(wildcard common/*.c)
WORKER_SRC := $(filter-out worker/main.c,$(wildcard worker/*.c worker/handshakes/*.c))
COORD_SRC  := $(filter-out coordinator/main.c,$(wildcard coordinator/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

COMMON_LIB := $(BUILD)/libcommon.a
WORKER_LIB := $(BUILD)/libworker.a
COORD_LIB  := $(BUILD)/libcoord.a
ALL_LIBS   := $(COORD_LIB) $(WORKER_LIB) $(COMMON_LIB) $(BUILD)/libproto.a

UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRC))
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps test unit lab fuzz bench demo format format-check clean man install deb FORCE
.DELETE_ON_ERROR:
# Keep the objects of test and bench programs between builds.
.SECONDARY:

all: $(BINDIR)/lzr-worker $(BINDIR)/lzr-coord

deps:
	bash deploy/deps.sh

$(PROTO_C) $(PROTO_H): proto/lzr.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --c_out=$(BUILD) proto/lzr.proto

# The version both programs print with --version (deploy/version.sh: git describe, or VERSION in a
# tree without git). The header is rewritten only when the version changes, so a commit rebuilds
# the two main.o files and nothing else.
VERSION ?= $(shell sh deploy/version.sh)

$(BUILD)/lzr_version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define LZR_VERSION "$(VERSION)"' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/worker/main.o $(BUILD)/obj/coordinator/main.o: $(BUILD)/lzr_version.h

$(PROTO_O): $(PROTO_C)
	$(CC) $(CPPFLAGS) $(GENFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	rm -f $@ && ar rcs $@ $^
$(WORKER_LIB): $(call obj,$(WORKER_SRC))
	rm -f $@ && ar rcs $@ $^
$(COORD_LIB): $(call obj,$(COORD_SRC))
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libproto.a: $(PROTO_O)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)/lzr-worker: $(call obj,worker/main.c) $(WORKER_LIB) $(COMMON_LIB) $(BUILD)/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# lzr-coord links no worker code: what both sides need (the protocol catalogue, the defaults,
# records and verdicts) lives in common/.
$(BINDIR)/lzr-coord: $(call obj,coordinator/main.c) $(COORD_LIB) $(COMMON_LIB) $(BUILD)/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(COORD_LDLIBS) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(ALL_LIBS) $(LDLIBS) $(COORD_LDLIBS) -lcmocka -o $@

$(BUILD)/tests/bench/%: $(BUILD)/obj/tests/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(ALL_LIBS) $(LDLIBS) $(COORD_LDLIBS) -o $@

unit: $(UNIT_BIN)

# Fuzzers are built by clang with libFuzzer straight from the sources they exercise.
build/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(WORKER_SRC) $(COORD_SRC) $(PROTO_C)
	@mkdir -p $(dir $@)
	$(FUZZCC) -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -I$(BUILD) \
	    -fsanitize=fuzzer,address,undefined $< $(COMMON_SRC) $(WORKER_SRC) $(COORD_SRC) $(PROTO_C) \
	    $(LDLIBS) $(COORD_LDLIBS) -o $@

fuzz: $(FUZZ_BIN)

bench-bin: $(BENCH_BIN)

# The whole check: packages, build, unit tests under ASan/UBSan, lab tests, fuzz smoke runs and
# the format check. Ends with "N passed, N failed".
test:
	bash deploy/deps.sh
	$(MAKE) all
	$(MAKE) SANITIZE=1 unit
	$(MAKE) fuzz
	bash tests/run.sh

bench: all
	$(MAKE) bench-bin
	bash tests/bench/run.sh

demo:
	bash deploy/deps.sh
	$(MAKE) all
	bash deploy/demo.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

# Man pages: one markdown source per page in docs/man/ (NAME.SECTION.md), turned into roff by
# pandoc. `make all` does not need pandoc; `make man`, `make install` and `make deb` do.
MAN_SRC := $(wildcard docs/man/*.md)
MAN_OUT := $(patsubst docs/man/%.md,build/man/%,$(MAN_SRC))

build/man/%: docs/man/%.md
	@mkdir -p $(dir $@)
	pandoc -s -f markdown -t man -M footer="lzr $(VERSION)" -M header="lzr manual" $< -o $@

man: $(MAN_OUT)

# Install paths (docs/deploy.md). PREFIX and DESTDIR as usual; configuration goes to /etc/lzr whatever the prefix,
# because the systemd units read it there. Existing files in /etc/lzr are kept, never replaced.
PREFIX         ?= /usr/local
SYSCONFDIR     ?= /etc
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/lzr
DATADIR        ?= $(PREFIX)/share/lzr
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/lzr $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(DATADIR)/zgrab2
	install -m 755 bin/lzr-worker bin/lzr-coord $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(filter %.1,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man5/
	for u in deploy/systemd/*.service; do \
	    sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' -e 's|/usr/share/doc/lzr/|$(DOCDIR)/|g' \
	        -e 's|/etc/lzr|$(SYSCONFDIR)/lzr|g' $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} && \
	    chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} || exit 1; \
	done
	for f in deploy/etc/worker.env deploy/etc/blocklist.conf deploy/nftables/lzr-worker.nft; do \
	    if [ -e $(DESTDIR)$(SYSCONFDIR)/lzr/$${f##*/} ]; then \
	        echo "keeping $(DESTDIR)$(SYSCONFDIR)/lzr/$${f##*/}"; \
	    else install -m $$(test -x $$f && echo 755 || echo 644) $$f $(DESTDIR)$(SYSCONFDIR)/lzr/ \
	        || exit 1; fi; \
	done
	install -m 644 deploy/zgrab2/lzr.ini $(DESTDIR)$(DATADIR)/zgrab2/
	install -m 644 docs/*.md README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 examples/* $(DESTDIR)$(DOCDIR)/examples/

# A Debian package built with debhelper from a copy of the tree (the tracked and new files, none
# of build/ or bin/), so the tree's own build is left alone: build/deb/lzr_VERSION_ARCH.deb,
# checked by lintian, which fails on errors. The packaging is deploy/debian/.
DEB_DIR := build/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/lzr-$(VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard | \
	        xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	        tar -cf - --null -T - | tar -xf - -C $(DEB_DIR)/lzr-$(VERSION); \
	else \
	    tar -cf - --exclude=./build --exclude=./bin . | tar -xf - -C $(DEB_DIR)/lzr-$(VERSION); \
	fi
	cp -r deploy/debian $(DEB_DIR)/lzr-$(VERSION)/debian
	sh deploy/debian/changelog.sh "$(VERSION)" >$(DEB_DIR)/lzr-$(VERSION)/debian/changelog
	cd $(DEB_DIR)/lzr-$(VERSION) && dpkg-buildpackage -b -us -uc -j2
	lintian --fail-on error $(DEB_DIR)/lzr_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb
	@echo "built $(DEB_DIR)/lzr_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb"

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
