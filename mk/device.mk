# libc2d-device (device/, docs/device-library.md): the device library, the
# terminal device built on it (build/c2d-device), the C example, the Check
# suite against the real broker, and its memory-safety runs.
#
# make                 - also builds build/libc2d-device.so (soname
#                        libc2d-device.so.1), build/libc2d-device.a,
#                        build/c2d-device, build/examples/thermostat,
#                        build/examples/lamp-gateway
# make test            - also runs build/device/test/test_device
# make install         - also installs the header, both libraries and
#                        c2d-device.pc under $(DESTDIR)$(PREFIX)
# make device-valgrind - the suite under valgrind (memcheck; leaks are errors)
# make device-sanitize - the library and suite built with ASan+UBSan into
#                        build-san-device/ and run (the broker and plugin as usual)

DEVICE_SO_MAJOR := 1
DEVICE_SO_VERSION := 1.0.0
DEVICE_SRC := $(sort $(wildcard device/*.c))
DEVICE_OBJ := $(DEVICE_SRC:device/%.c=$(B)/device/obj/%.o)
DEVICE_HDR := device/c2d_device.h device/internal.h
DEVICE_SONAME := libc2d-device.so.$(DEVICE_SO_MAJOR)
DEVICE_SO := $(B)/libc2d-device.so
DEVICE_A := $(B)/libc2d-device.a
DEVICE_LIBS := $(shell pkg-config --libs libmosquitto libcjson)
DEVICE_LIBDIR ?= $(PREFIX)/lib
DEVICE_INCDIR ?= $(PREFIX)/include
# Programs in build/ and build/*/ find the library next to them.
DEVICE_LINK = -L$(B) -lc2d-device -Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/..' -Wl,-rpath,'$$ORIGIN/../..'

# The plugin the suite loads into /usr/sbin/mosquitto (the regular build also
# for the sanitizer run: only the library and the suite are instrumented).
DEVICE_PLUGIN ?= $(abspath $(B)/mosquitto_c2d.so)
# the same file as a prerequisite, relative when it is in this tree (the
# rule that builds the plugin names it relatively: an absolute name would be
# another target, with no rule, and a fresh `make -j2 test` would stop)
DEVICE_PLUGIN_DEP = $(patsubst $(abspath .)/%,%,$(DEVICE_PLUGIN))
DEVICE_TEST_BIN := $(B)/device/test/test_device
DEVICE_TEST_CFLAGS = $(CFLAGS) $(CHECK_CFLAGS) -Idevice -Itest/broker -fvisibility=default \
	-DC2D_PLUGIN_PATH='"$(DEVICE_PLUGIN)"' -DC2D_FAULTFS_PATH='"$(abspath $(FAULTFS))"'
DEVICE_TEST_SRC := $(sort $(wildcard device/test/*.c))
DEVICE_TEST_DEPS := $(HARNESS_SRC) test/broker/harness.h test/broker/harness_int.h test/broker/fixture.c test/broker/fixture.h \
	test/check_main.h $(wildcard device/test/*.h) examples/thermostat.py

DEVICE_EXAMPLES := $(B)/examples/thermostat $(B)/examples/lamp-gateway

EXTRA_ALL += $(DEVICE_SO) $(DEVICE_A) $(B)/c2d-device $(DEVICE_EXAMPLES) $(B)/c2d-device.pc
EXTRA_TEST_BIN += $(DEVICE_TEST_BIN)
EXTRA_INSTALL += device-install

.PHONY: device device-install device-uninstall device-valgrind device-sanitize

device: $(DEVICE_SO) $(DEVICE_A)

$(B)/device/obj/%.o: device/%.c $(DEVICE_HDR) mk/device.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fvisibility=hidden -c -o $@ $<

$(B)/$(DEVICE_SONAME): $(DEVICE_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(DEVICE_SONAME) -Wl,--no-undefined -o $@ $^ $(DEVICE_LIBS)

$(DEVICE_SO): $(B)/$(DEVICE_SONAME)
	ln -sf $(DEVICE_SONAME) $@

$(DEVICE_A): $(DEVICE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/c2d-device.pc: device/c2d-device.pc.in mk/device.mk
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(DEVICE_LIBDIR)|g' -e 's|@INCDIR@|$(DEVICE_INCDIR)|g' \
		-e 's|@VERSION@|$(DEVICE_SO_VERSION)|g' $< >$@

# The terminal device (scripts/c2d device, the README's tour).
$(B)/c2d-device: scripts/c2d_device.c device/c2d_device.h $(DEVICE_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idevice -o $@ $< $(LDFLAGS) $(DEVICE_LINK)

$(B)/examples/%: examples/%.c examples/example_util.h device/c2d_device.h $(DEVICE_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idevice -o $@ $< $(LDFLAGS) $(DEVICE_LINK) $(shell pkg-config --libs libcjson)

$(DEVICE_TEST_BIN): $(DEVICE_TEST_SRC) $(DEVICE_TEST_DEPS) $(DEVICE_SO) $(B)/c2d-device $(DEVICE_EXAMPLES) \
		$(DEVICE_PLUGIN_DEP) $(FAULTFS)
	@mkdir -p $(dir $@)
	$(CC) $(DEVICE_TEST_CFLAGS) -DC2D_DEVICE_BIN='"$(abspath $(B)/c2d-device)"' \
		-DC2D_EXAMPLES_DIR='"$(abspath $(B)/examples)"' -DC2D_SRCDIR='"$(abspath .)"' -o $@ $(DEVICE_TEST_SRC) \
		$(HARNESS_SRC) test/broker/fixture.c $(LDFLAGS) $(DEVICE_LINK) $(CHECK_LIBS) -lmosquitto \
		$(PKG_LIBS)

device-install: $(DEVICE_SO) $(DEVICE_A) $(B)/c2d-device.pc
	install -d $(DESTDIR)$(DEVICE_LIBDIR)/pkgconfig $(DESTDIR)$(DEVICE_INCDIR)
	install -m 0644 device/c2d_device.h $(DESTDIR)$(DEVICE_INCDIR)/c2d_device.h
	install -m 0755 $(B)/$(DEVICE_SONAME) $(DESTDIR)$(DEVICE_LIBDIR)/$(DEVICE_SONAME)
	ln -sf $(DEVICE_SONAME) $(DESTDIR)$(DEVICE_LIBDIR)/libc2d-device.so
	install -m 0644 $(DEVICE_A) $(DESTDIR)$(DEVICE_LIBDIR)/libc2d-device.a
	install -m 0644 $(B)/c2d-device.pc $(DESTDIR)$(DEVICE_LIBDIR)/pkgconfig/c2d-device.pc

device-uninstall:
	rm -f $(DESTDIR)$(DEVICE_INCDIR)/c2d_device.h $(DESTDIR)$(DEVICE_LIBDIR)/$(DEVICE_SONAME) \
		$(DESTDIR)$(DEVICE_LIBDIR)/libc2d-device.so $(DESTDIR)$(DEVICE_LIBDIR)/libc2d-device.a \
		$(DESTDIR)$(DEVICE_LIBDIR)/pkgconfig/c2d-device.pc

# ---- memory safety (steps of scripts/check-hostile.sh) ----

DEVICE_VALGRIND_FLAGS := --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=1 --track-origins=yes --quiet

device-valgrind: $(DEVICE_TEST_BIN)
	@log=$(B)/device/test/test_device.valgrind.log; \
	if CK_FORK=no CK_DEFAULT_TIMEOUT=120 valgrind $(DEVICE_VALGRIND_FLAGS) --log-file=$$log $(DEVICE_TEST_BIN) >$$log.out 2>&1; then \
		echo "device-valgrind: OK ($$(grep -E '^[0-9]+%: Checks' $$log.out | tail -n 1))"; \
	else tail -n 40 $$log.out; head -n 80 $$log; \
		echo "device-valgrind: FAILED (see $$log)"; exit 1; fi

DEVICE_SAN_B := build-san-device
device-sanitize: $(B)/mosquitto_c2d.so $(FAULTFS)
	@$(MAKE) -s --no-print-directory B=$(DEVICE_SAN_B) OPT=-O1 WERROR=-Werror \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		DEVICE_PLUGIN=$(abspath $(B)/mosquitto_c2d.so) FAULTFS=$(abspath $(FAULTFS)) \
		$(DEVICE_SAN_B)/device/test/test_device
	@out=$(DEVICE_SAN_B)/device/test/test_device.out; \
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(DEVICE_SAN_B)/device/test/test_device >$$out 2>&1; then \
		echo "device-sanitize: OK ($$(grep -E '^[0-9]+%: Checks' $$out | tail -n 1))"; \
	else tail -n 80 $$out; echo "device-sanitize: FAILED (see $$out)"; exit 1; fi
