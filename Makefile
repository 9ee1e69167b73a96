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

CPPFLAGS := -D_GNU_SOURCE -I. -I$(BUILD)
CFLAGS   := -std=gnu11 -O2 -g -Wall -Wextra -Werror $(SANFLAGS)
GENFLAGS := -std=gnu11 -O2 -g $(SANFLAGS)
LDFLAGS  := $(SANFLAGS)
LDLIBS   := -lczmq -lzmq -lsodium -lpcap -lprotobuf-c -lsqlite3 -lpthread -lm

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

.PHONY: all deps test unit lab fuzz bench demo format format-check clean
.DELETE_ON_ERROR:
# Keep the objects of test and bench programs between builds.
.SECONDARY:

all: $(BINDIR)/lzr-worker $(BINDIR)/lzr-coord

deps:
	bash deploy/deps.sh

$(PROTO_C) $(PROTO_H): proto/lzr.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --c_out=$(BUILD) proto/lzr.proto

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

$(BINDIR)/lzr-coord: $(call obj,coordinator/main.c) $(COORD_LIB) $(WORKER_LIB) $(COMMON_LIB) $(BUILD)/libproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(ALL_LIBS) $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/bench/%: $(BUILD)/obj/tests/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(ALL_LIBS) $(LDLIBS) -o $@

unit: $(UNIT_BIN)

# Fuzzers are built by clang with libFuzzer straight from the sources they exercise.
build/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(WORKER_SRC) $(COORD_SRC) $(PROTO_C)
	@mkdir -p $(dir $@)
	$(FUZZCC) -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -I$(BUILD) \
	    -fsanitize=fuzzer,address,undefined $< $(COMMON_SRC) $(WORKER_SRC) $(COORD_SRC) $(PROTO_C) \
	    $(LDLIBS) -o $@

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

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
