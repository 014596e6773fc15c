# mosquitto-c2d: GNU make. `make` builds build/mosquitto_c2d.so.
# make test   - unit + broker tests (warnings are errors)
# make run    - start a foreground broker with the plugin (scripts/run.sh)
# make bench  - benchmarks against plain Mosquitto (bench/)
# make install PREFIX=/usr/local

CC ?= cc
PKGS := lmdb libuv libcjson libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
WERROR ?=
OPT ?= -O2
SAN ?=
CFLAGS ?= $(OPT) -g
CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra $(WERROR) -fPIC -fvisibility=hidden \
	-Iinclude $(PKG_CFLAGS) $(SAN)
LDFLAGS += $(SAN)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib/mosquitto_c2d

B := build
# The broker test harness (harness.h), split by concern; every broker suite
# and the device suite link all of it.
HARNESS_SRC := $(sort $(wildcard test/broker/harness_*.c))
HARNESS_OBJ := $(HARNESS_SRC:test/broker/%.c=$(B)/test/broker/obj/%.o)
.SECONDARY: $(HARNESS_OBJ)
SRC := $(sort $(wildcard plugin/*.c))
OBJ := $(SRC:plugin/%.c=$(B)/obj/%.o)
# The archive the unit tests link: every module but the broker glue and its log.
LIB_OBJ := $(filter-out $(B)/obj/plugin.o $(B)/obj/log.o,$(OBJ))

UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(B)/test/unit/%)
BROKER_SRC := $(sort $(wildcard test/broker/test_*.c))
BROKER_BIN := $(BROKER_SRC:test/broker/%.c=$(B)/test/broker/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS := $(shell pkg-config --libs check)
TEST_CFLAGS = $(CFLAGS) $(CHECK_CFLAGS) -Itest/unit -Itest/broker -fvisibility=default \
	-DC2D_PLUGIN_PATH='"$(abspath $(B)/mosquitto_c2d.so)"' -DC2D_SRCDIR='"$(abspath .)"' \
	-DC2D_FAULTFS_PATH='"$(abspath $(B)/test/libc2d_faultfs.so)"'
FAULTFS := $(B)/test/libc2d_faultfs.so

.PHONY: all test unit broker-test run install uninstall clean bench format check-format
.DEFAULT_GOAL := all

# Components beside the plugin (device library, HTTP daemon, ...): each
# mk/<name>.mk adds its targets to EXTRA_ALL (built by `make`), its test
# binaries to EXTRA_TEST_BIN (run by `make test`, each printing Check's
# summary line), and its install steps as a rule that EXTRA_INSTALL names.
EXTRA_ALL :=
EXTRA_TEST_BIN :=
EXTRA_INSTALL :=
include $(filter-out mk/fuzz.mk,$(sort $(wildcard mk/*.mk)))

all: $(B)/mosquitto_c2d.so $(B)/c2d-device $(EXTRA_ALL)

$(B)/obj/%.o: plugin/%.c $(wildcard include/*.h plugin/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/mosquitto_c2d.so: $(OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/libc2d.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/test/unit/%: test/unit/%.c test/unit/log_stderr.c $(B)/libc2d.a $(wildcard test/unit/*.h) test/check_main.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< test/unit/log_stderr.c $(B)/libc2d.a $(LDFLAGS) $(CHECK_LIBS) $(PKG_LIBS)

# Preloaded into the broker by tests that make disk writes fail (harness.h).
# Never instrumented: it is also preloaded into the sanitizer wrapper's shell.
$(FAULTFS): test/broker/faultfs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=c11 -Wall -Wextra $(WERROR) -fPIC -shared -o $@ $< -ldl

$(B)/test/broker/obj/%.o: test/broker/%.c test/broker/harness.h test/broker/harness_int.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(B)/test/broker/%: test/broker/%.c $(HARNESS_OBJ) test/broker/fixture.c $(wildcard test/broker/*.h) test/check_main.h $(B)/mosquitto_c2d.so $(FAULTFS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(HARNESS_OBJ) test/broker/fixture.c $(LDFLAGS) $(CHECK_LIBS) -lmosquitto $(PKG_LIBS)

$(B)/bench/%: bench/%.c $(wildcard bench/*.h) $(B)/mosquitto_c2d.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fvisibility=default -DC2D_PLUGIN_PATH='"$(abspath $(B)/mosquitto_c2d.so)"' -o $@ $< $(LDFLAGS) -lmosquitto -lm $(shell pkg-config --libs libcjson lmdb) -lpthread

unit: $(UNIT_BIN)
broker-test: $(BROKER_BIN)

# Every test binary runs; scripts/run-tests.sh prints each suite's result and a
# closing "N passed, N failed" line, and fails if anything failed.
test:
	$(MAKE) WERROR=-Werror all unit broker-test $(EXTRA_TEST_BIN)
	scripts/module-graph.py $(B)/obj
	scripts/run-tests.sh $(UNIT_BIN) $(BROKER_BIN) $(EXTRA_TEST_BIN)

bench: $(BENCH_BIN)
	scripts/bench.sh $(BENCH_BIN)

run: all
	scripts/run.sh

install: all $(EXTRA_INSTALL)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0644 $(B)/mosquitto_c2d.so $(DESTDIR)$(LIBDIR)/mosquitto_c2d.so

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/mosquitto_c2d.so

format:
	clang-format -i plugin/*.c plugin/*.h include/*.h test/unit/*.c test/broker/*.c

clean:
	rm -rf $(B)

# Hostile input and memory safety: fuzz, sanitize, valgrind (scripts/check-hostile.sh).
include mk/fuzz.mk
