/* Static files: the dashboard (web/) served at / from --web-dir.
 *
 * GET and HEAD only; "/" is index.html. A path segment that starts with a
 * dot (.., ., hidden files) or holds a backslash is refused, and the file's
 * resolved path (symlinks followed) must lie inside the resolved web
 * directory, so nothing outside it can be read. Only regular files are
 * served, with a content type by extension, an ETag (size and mtime) that
 * If-None-Match turns into 304, Cache-Control no-cache (revalidate: the
 * pages have no build step and no hashed names) and headers that keep the
 * pages from being framed or sniffed. Missing files are the JSON 404 of
 * every other unknown path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "route.h"

#define STATIC_MAX_BYTES (8 * 1024 * 1024)

static const struct {
	const char *ext, *type;
} types[] = {
	{"html", "text/html; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"json", "application/json"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"ico", "image/x-icon"},
	{"txt", "text/plain; charset=utf-8"},
	{"woff2", "font/woff2"},
	{"webmanifest", "application/manifest+json"},
};

/* Content type for path (borrowed); application/octet-stream if unknown. */
static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	if(dot && strchr(dot, '/') == NULL){
		for(i = 0; i < sizeof(types) / sizeof(types[0]); i++){
			if(strcmp(dot + 1, types[i].ext) == 0) return types[i].type;
		}
	}
	return "application/octet-stream";
}

/* True if every segment may name a file under the web directory. */
static bool segments_ok(char **seg, int n)
{
	int i;

	for(i = 0; i < n; i++){
		if(seg[i][0] == '.' || strchr(seg[i], '\\')) return false;
	}
	return true;
}

/* Joins root and the segments into out (size outsz). Returns 0 or -1 (too long). */
static int join(char *out, size_t outsz, const char *root, char **seg, int n)
{
	size_t len = (size_t)snprintf(out, outsz, "%s", root);
	int i;

	if(len >= outsz) return -1;
	for(i = 0; i < n; i++){
		len += (size_t)snprintf(out + len, outsz - len, "/%s", seg[i]);
		if(len >= outsz) return -1;
	}
	if(n == 0) len += (size_t)snprintf(out + len, outsz - len, "/index.html");
	return len < outsz ? 0 : -1;
}

/* Reads the regular file at path (borrowed) if it lies inside root (a
 * resolved path, borrowed). Returns: the bytes (caller owns, *len set, st
 * filled), or NULL with *status 404 (missing, outside, not a file) or 500. */
static char *read_inside(const char *root, const char *path, struct stat *st, size_t *len, int *status)
{
	char real[PATH_MAX], *buf;
	size_t rl = strlen(root);
	ssize_t got;
	int fd;

	*status = 404;
	if(realpath(path, real) == NULL) return NULL;
	if(strncmp(real, root, rl) != 0 || real[rl] != '/') return NULL;
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if(fd < 0) return NULL;
	if(fstat(fd, st) != 0 || !S_ISREG(st->st_mode)){
		close(fd);
		return NULL;
	}
	*status = 500;
	if(st->st_size > STATIC_MAX_BYTES || (buf = malloc((size_t)st->st_size + 1)) == NULL){
		close(fd);
		return NULL;
	}
	*len = 0;
	while(*len < (size_t)st->st_size){
		got = read(fd, buf + *len, (size_t)st->st_size - *len);
		if(got < 0 && errno == EINTR) continue;
		if(got <= 0) break;
		*len += (size_t)got;
	}
	close(fd);
	if(*len != (size_t)st->st_size){
		free(buf);
		return NULL;
	}
	return buf;
}

/* Adds the validators and the headers every page gets. etag: borrowed. */
static void add_headers(struct hreq *r, const char *etag, const struct stat *st)
{
	char lm[64];
	struct tm tm;

	req_header(r, "ETag", etag);
	if(gmtime_r(&st->st_mtime, &tm) && strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm)){
		req_header(r, "Last-Modified", lm);
	}
	req_header(r, "Cache-Control", "no-cache");
	req_header(r, "X-Content-Type-Options", "nosniff");
	req_header(r, "X-Frame-Options", "DENY");
	req_header(r, "Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
	req_header(r, "Referrer-Policy", "no-referrer");
}

bool static_route(struct hreq *r, char **seg, int n)
{
	char root[PATH_MAX], path[PATH_MAX], etag[64], *body;
	const char *inm;
	struct stat st;
	size_t len = 0;
	int status;

	if(g.opt.web_dir == NULL || g.opt.web_dir[0] == '\0') return false;
	if(n >= 1 && strcmp(seg[0], "api") == 0) return false;
	if(strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) return false;
	if(!segments_ok(seg, n)) return false;
	if(realpath(g.opt.web_dir, root) == NULL){
		hlog(true, "web-dir %s: %s", g.opt.web_dir, strerror(errno));
		return false;
	}
	if(join(path, sizeof(path), root, seg, n)) return false;
	body = read_inside(root, path, &st, &len, &status);
	if(body == NULL){
		if(status == 404) return false;
		req_error(r, status, "cannot read %s", r->url);
		return true;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
			(unsigned long long)st.st_mtime);
	add_headers(r, etag, &st);
	inm = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if(inm && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)){
		req_result(r, 304, NULL, 0, NULL);
	}else{
		req_result(r, 200, body, len, content_type(path));
	}
	free(body);
	return true;
}
