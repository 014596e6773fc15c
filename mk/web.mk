# The dashboard (web/, docs/dashboard.md): static pages c2d-http serves at /
# (http/static.c, --web-dir). Included by the Makefile after mk/http.mk.
#   make                  nothing to build (plain HTML, CSS, JS modules); c2d-http
#                         gets the installed location as its --web-dir default
#   make test             runs build/test/web/test_web: the static file server
#                         (requests) and the pages in headless Chromium
#                         (Selenium) against broker + plugin + c2d-http + devices
#                         on libc2d-device (build/c2d-device)
#   make dashboard-shots  the same run, writing its screenshots to docs/img/
#   make install          installs web/ into $(WEBDIR)

WEBDIR ?= $(PREFIX)/share/mosquitto-c2d/web
WEB_FILES := $(shell find web -type f 2>/dev/null | sort)
WEB_TEST := $(B)/test/web/test_web
WEB_TEST_SRC := test/web/test_web.py test/web/webfix.py test/http/httpfix.py

EXTRA_TEST_BIN += $(WEB_TEST)
EXTRA_INSTALL += install-web

# c2d-http's --web-dir default is where `make install` puts the pages; the
# stamp changes (and opts.o is rebuilt) when WEBDIR or PREFIX does.
$(B)/http/opts.o: HTTP_CFLAGS += -DC2D_WEB_DIR='"$(WEBDIR)"'
$(B)/http/opts.o: mk/web.mk $(B)/http/webdir.stamp

$(B)/http/webdir.stamp: web-force
	@mkdir -p $(dir $@)
	@echo '$(WEBDIR)' | cmp -s - $@ || echo '$(WEBDIR)' > $@

$(WEB_TEST): $(WEB_TEST_SRC) $(WEB_FILES) $(HTTP_BIN) $(B)/mosquitto_c2d.so $(B)/c2d-device mk/web.mk
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec /usr/bin/python3 %s --plugin %s --http %s --device %s --web %s --shots %s "$$@"\n' \
		"$(abspath test/web/test_web.py)" "$(abspath $(B)/mosquitto_c2d.so)" "$(abspath $(HTTP_BIN))" \
		"$(abspath $(B)/c2d-device)" "$(abspath web)" "$(abspath $(B)/test/web/shots)" > $@
	chmod +x $@

.PHONY: install-web dashboard-shots web-force
web-force:
install-web:
	install -d $(DESTDIR)$(WEBDIR)
	cd web && find . -type d -exec install -d $(DESTDIR)$(WEBDIR)/{} \; \
		&& find . -type f -exec install -m 0644 {} $(DESTDIR)$(WEBDIR)/{} \;

dashboard-shots: $(WEB_TEST)
	$(WEB_TEST) --shots $(abspath docs/img)
