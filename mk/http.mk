# c2d-http, the HTTP daemon (docs/http.md). Included by the Makefile.
#   make                  builds build/c2d-http
#   make test             runs build/test/http/test_http (Python + requests
#                         against the real broker, plugin and c2d-http)
#   make bench            also runs build/bench/http_bench
#   make install          installs c2d-http, its config and systemd unit examples

HTTP_SRC := $(sort $(wildcard http/*.c))
HTTP_OBJ := $(HTTP_SRC:http/%.c=$(B)/http/%.o) $(B)/http/openapi_doc.o
HTTP_BIN := $(B)/c2d-http
HTTP_CFLAGS = $(filter-out -fvisibility=hidden -Iinclude,$(CFLAGS)) -Ihttp $(shell pkg-config --cflags libmicrohttpd libcjson)
HTTP_LIBS := $(shell pkg-config --libs libmicrohttpd libcjson) -lmosquitto -lpthread -lm
HTTP_TEST := $(B)/test/http/test_http
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

EXTRA_ALL += $(HTTP_BIN)
EXTRA_TEST_BIN += $(HTTP_TEST)
EXTRA_INSTALL += install-http

$(B)/http/%.o: http/%.c $(wildcard http/*.h) mk/http.mk
	@mkdir -p $(dir $@)
	$(CC) $(HTTP_CFLAGS) -c -o $@ $<

# The OpenAPI document is served from memory: embed it as a C array.
$(B)/http/openapi_doc.c: http/openapi.json mk/http.mk
	@mkdir -p $(dir $@)
	{ echo '#include <stddef.h>'; echo 'const char c2d_openapi_json[] = {'; \
	  od -An -v -tx1 $< | sed -E 's/ *([0-9a-f]{2})/0x\1,/g'; echo '0x00};'; \
	  echo "const size_t c2d_openapi_json_len = sizeof(c2d_openapi_json) - 1;"; } > $@

$(B)/http/openapi_doc.o: $(B)/http/openapi_doc.c
	$(CC) $(HTTP_CFLAGS) -c -o $@ $<

$(HTTP_BIN): $(HTTP_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(HTTP_LIBS)

# The test "binary" run-tests.sh runs: a wrapper around the Python suite.
$(HTTP_TEST): test/http/test_http.py test/http/httpfix.py $(HTTP_BIN) $(B)/mosquitto_c2d.so mk/http.mk
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec python3 %s --plugin %s --http %s "$$@"\n' "$(abspath test/http/test_http.py)" \
		"$(abspath $(B)/mosquitto_c2d.so)" "$(abspath $(HTTP_BIN))" > $@
	chmod +x $@

# The HTTP benchmark is a bench/ program (built by the Makefile's bench rule);
# it starts c2d-http, so it needs it built.
$(B)/bench/http_bench: $(HTTP_BIN)
$(B)/bench/http_bench: CFLAGS += -DC2D_HTTP_PATH='"$(abspath $(HTTP_BIN))"'

.PHONY: install-http
install-http: $(HTTP_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/mosquitto-c2d $(DESTDIR)$(PREFIX)/share/doc/mosquitto-c2d
	install -m 0755 $(HTTP_BIN) $(DESTDIR)$(PREFIX)/bin/c2d-http
	install -m 0644 conf/c2d-http.conf $(DESTDIR)$(SYSCONFDIR)/mosquitto-c2d/c2d-http.conf
	install -m 0644 conf/c2d-http.service $(DESTDIR)$(PREFIX)/share/doc/mosquitto-c2d/c2d-http.service
	install -m 0644 http/openapi.json $(DESTDIR)$(PREFIX)/share/doc/mosquitto-c2d/openapi.json
