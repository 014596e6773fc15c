# Hostile input and memory safety (docs/reliability.md). Included from the
# Makefile (make fuzz, make sanitize, make valgrind, make fuzz-corpus).
#
# make fuzz      - libFuzzer targets (test/fuzz/fuzz_*.c), built with clang and
#                  ASan+UBSan+LSan against the pure modules' sources, each run
#                  FUZZ_SECONDS (60) on a temporary copy of its seed corpus
# make fuzz-build - only build them (into $(B)/fuzz/)
# make fuzz-corpus - run each target once over its checked-in corpus (seconds)
# make sanitize  - the plugin and every test built with gcc ASan+UBSan into
#                  build-san/; unit suites, then the broker suites (SAN_BROKER)
#                  with the sanitizer runtime preloaded into the broker
# make valgrind  - unit suites under valgrind (memcheck, leaks are errors)
# scripts/check-hostile.sh runs all three.

# This file defines no default goal: keep whatever the including Makefile has.
# Best included at the end of the Makefile (it uses B, CC, UNIT_SRC, ...).
C2D_FUZZ_PREV_GOAL := $(.DEFAULT_GOAL)
B ?= build

# ---- fuzz ----

# Debian 12: clang-14 and libclang-rt-14-dev (libFuzzer); scripts/check-hostile.sh installs them.
ifeq ($(origin FUZZ_CC),undefined)
FUZZ_CC := $(shell command -v clang-14 || echo clang)
endif
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := topic mpatch twin qrec conf
FUZZ_B := $(B)/fuzz
# The pure modules (no broker, no LMDB) and the stderr log the unit tests use.
FUZZ_MODULES := topic mpatch twin_doc conf qrec rec json
FUZZ_OBJ := $(FUZZ_MODULES:%=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/log_stderr.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_SANS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SANS) -std=c11 -D_POSIX_C_SOURCE=200809L \
	-D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude -Itest/unit -Itest/fuzz \
	$(shell pkg-config --cflags libcjson)
FUZZ_LIBS := $(shell pkg-config --libs libcjson)

.PHONY: fuzz fuzz-build fuzz-corpus sanitize valgrind
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_B)/obj/%.o: plugin/%.c $(wildcard include/*.h) mk/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/obj/log_stderr.o: test/unit/log_stderr.c test/unit/log_stderr.h mk/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h test/fuzz/fuzz_json.h $(FUZZ_OBJ) $(wildcard include/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_B) $(FUZZ_TARGETS)

# Replays the checked-in seeds only (no fuzzing): a quick regression check.
fuzz-corpus: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_B)/artifacts
	@ok=0; for t in $(FUZZ_TARGETS); do \
		if $(FUZZ_B)/fuzz_$$t -runs=0 -detect_leaks=1 -artifact_prefix=$(FUZZ_B)/artifacts/corpus-$$t- test/fuzz/corpus/$$t >$(FUZZ_B)/fuzz_$$t.corpus.log 2>&1; then \
			echo "fuzz_$$t: corpus OK ($$(ls test/fuzz/corpus/$$t | wc -l) inputs)"; \
		else echo "fuzz_$$t: corpus FAILED (see $(FUZZ_B)/fuzz_$$t.corpus.log)"; ok=1; fi; \
	done; exit $$ok

# ---- sanitize ----

SAN_B := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# gcc's -Wformat-truncation sees other value ranges at -O1 with the
# sanitizers than at -O2: reported, not fatal (the regular build is -Werror).
SAN_WARN := -Wno-error=format-truncation
# The broker is the Debian /usr/sbin/mosquitto (not instrumented): the broker
# suites exec it through a wrapper that preloads the ASan runtime (which must
# come first when the instrumented plugin is dlopen'ed) and keeps every
# report in $(SAN_B)/reports/ (the broker dirs are deleted after each test).
# A library the test preloads (write faults) comes after the runtime.
SAN_BROKER_WRAPPER := $(abspath $(SAN_B))/mosquitto-asan
SAN_REPORTS := $(abspath $(SAN_B))/reports
SAN_UNIT_BIN = $(UNIT_SRC:test/unit/%.c=$(SAN_B)/test/unit/%)
# Broker suites to run under the sanitizers: all but those whose broker runs
# under libfaketime (test_time, test_upgrade: any suite naming faketime): with the ASan runtime and libfaketime both
# preloaded, /usr/sbin/mosquitto hangs before it logs anything (checked by
# hand: `LD_PRELOAD="libasan.so libubsan.so libfaketime.so.1" mosquitto`
# never starts, either library alone does). The regular suite runs it.
SAN_FAKETIME := $(patsubst test/broker/%.c,%,$(shell grep -l faketime $(BROKER_SRC)))
SAN_BROKER ?= $(filter-out $(SAN_FAKETIME),$(BROKER_SRC:test/broker/%.c=%))
SAN_BROKER_BIN = $(SAN_BROKER:%=$(SAN_B)/test/broker/%)
# Leaks: the unit suites run the plugin's modules in-process, so their leaks
# are errors. The broker suites' own processes (harness, libmosquitto
# clients) are not under test: no leak check there. The broker process is
# checked (the plugin lives in it), with full stacks (Debian's mosquitto has
# no frame pointers) so that test/fuzz/lsan-broker.supp can name the two
# leaks of mosquitto 2.0.11 itself that the suites hit. Those stacks are
# unwound from DWARF at every malloc (fast_unwind_on_malloc=0): a job
# execution dispatched costs about 1 ms there, so test_jobs's long device
# list is 200 ids under the sanitizer (C2D_LONG_LIST; 10000 in make test).
SAN_ENV_UNIT := ASAN_OPTIONS=detect_leaks=1:print_summary=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SAN_ENV_BROKER := ASAN_OPTIONS=detect_leaks=0:print_summary=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 C2D_LONG_LIST=200

sanitize:
	@$(MAKE) -s --no-print-directory B=$(SAN_B) OPT=-O1 WERROR=-Werror \
		SAN="$(SAN_FLAGS) $(SAN_WARN) -DC2D_MOSQUITTO_BIN='\"$(SAN_BROKER_WRAPPER)\"'" \
		all unit broker-test
	@rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	@printf '%s\n' '#!/bin/sh' \
		'# generated by mk/fuzz.mk: /usr/sbin/mosquitto with the sanitizer runtime preloaded' \
		'LD_PRELOAD="$(shell $(CC) -print-file-name=libasan.so) $(shell $(CC) -print-file-name=libubsan.so)$${LD_PRELOAD:+ $$LD_PRELOAD}"' \
		'ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:log_path=$(SAN_REPORTS)/broker"' \
		'LSAN_OPTIONS="suppressions=$(abspath test/fuzz)/lsan-broker.supp:print_suppressions=0"' \
		'UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$(SAN_REPORTS)/broker-ubsan"' \
		'export LD_PRELOAD ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS' \
		'exec /usr/sbin/mosquitto "$$@"' >$(SAN_BROKER_WRAPPER)
	@chmod +x $(SAN_BROKER_WRAPPER)
	@echo "sanitize: unit suites (ASan+UBSan+LSan)"
	@$(SAN_ENV_UNIT) scripts/run-tests.sh $(SAN_UNIT_BIN); u=$$?; \
	echo "sanitize: broker suites ($(words $(SAN_BROKER)), broker under $(SAN_BROKER_WRAPPER))"; \
	$(SAN_ENV_BROKER) scripts/run-tests.sh $(SAN_BROKER_BIN); k=$$?; \
	r=$$(ls $(SAN_REPORTS) | wc -l); \
	if [ $$r -ne 0 ]; then echo "sanitize: $$r broker sanitizer report(s):"; \
		for f in $(SAN_REPORTS)/*; do echo "---- $$f"; head -n 60 "$$f"; done; fi; \
	if [ $$u -eq 0 ] && [ $$k -eq 0 ] && [ $$r -eq 0 ]; then \
		echo "sanitize: OK (unit and $(words $(SAN_BROKER)) broker suites clean under ASan+UBSan+LSan)"; \
	else echo "sanitize: FAILED (unit rc $$u, broker rc $$k, broker reports $$r)"; exit 1; fi

# ---- valgrind ----

VALGRIND ?= valgrind
VALGRIND_FLAGS := --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
	--error-exitcode=1 --track-origins=yes --quiet --suppressions=test/fuzz/valgrind.supp

valgrind: unit
	@ok=0; n=0; for t in $(UNIT_BIN); do n=$$((n + 1)); \
		log=$(B)/test/unit/$$(basename $$t).valgrind.log; \
		if CK_FORK=no $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$$log $$t >$$log.out 2>&1; then \
			echo "valgrind $$(basename $$t): OK ($$(grep -E '^[0-9]+%: Checks' $$log.out | tail -n 1))"; \
		else ok=$$((ok + 1)); echo "valgrind $$(basename $$t): FAILED (see $$log)"; \
			grep -E '^[0-9]+%: Checks' $$log.out | tail -n 1; head -n 60 $$log; fi; \
	done; \
	if [ $$ok -eq 0 ]; then echo "valgrind: OK ($$n unit suites, no errors, no leaks)"; \
	else echo "valgrind: FAILED ($$ok of $$n unit suites)"; exit 1; fi

.DEFAULT_GOAL := $(C2D_FUZZ_PREV_GOAL)
