/* GET /api/v1/events[?device=]: the plugin's CloudEvents as Server-Sent
 * Events. Each stream has its own MQTT connection with the caller's
 * credentials subscribed to $c2d/{dev|+}/events/# (the fleet stream, without
 * ?device=, also to the jobs' $c2d/$jobs/+/events): the broker's ACL decides
 * (a refused subscription is 403). Events wait in a bounded buffer; a reader
 * with nothing to send suspends the HTTP connection until an event or a
 * heartbeat comment comes. A stream that falls sse_buffer bytes behind is
 * ended (the client reconnects). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "route.h"

struct sse_stream {
	struct hreq *r;           /* NULL once the request is gone */
	struct hconn *c;          /* its connection (the stream holds a user) */
	char *buf;
	size_t len, off, cap;
	bool ended;               /* send what is buffered, then end */
	bool has_response;        /* MHD owns a response reading from it */
	uint64_t started, next_beat;
};

/* Resumes the stream's reader if it is suspended. */
static void wake_reader(struct sse_stream *s)
{
	struct hreq *r = s->r;

	if(r && r->suspended && !r->resume_queued){
		r->resume_queued = true;
		r->rnext = g.resume;
		g.resume = r;
		pool_wake();
	}
}

/* Appends text (n bytes) to the buffer; over sse_buffer the stream ends. */
static void append(struct sse_stream *s, const char *text, size_t n)
{
	if(s->ended) return;
	if(s->len - s->off + n > (size_t)g.opt.sse_buffer){
		hlog(false, "SSE stream %s: client too slow (%zu bytes unsent), closing it", s->c ? s->c->client_id : "?",
				s->len - s->off);
		s->ended = true;
		wake_reader(s);
		return;
	}
	if(s->off && s->off == s->len) s->off = s->len = 0;
	if(s->len + n > s->cap){
		size_t cap = (s->len + n) * 2 + 256;
		char *b = realloc(s->buf, cap);
		if(b == NULL){
			s->ended = true;
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	wake_reader(s);
}

static void append_str(struct sse_stream *s, const char *text)
{
	append(s, text, strlen(text));
}

void sse_on_message(struct hconn *c, const struct hmsg *m)
{
	struct sse_stream *s = c->stream ? c->stream->sse : NULL;
	cJSON *doc;
	const cJSON *type, *id;
	char head[400];
	const char *p, *e, *end;

	if(s == NULL) return;
	doc = cJSON_ParseWithLength(m->payload, (size_t)m->len);
	type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	snprintf(head, sizeof(head), "event: %.160s\nid: %.160s\n", cJSON_IsString(type) ? type->valuestring : "message",
			cJSON_IsString(id) ? id->valuestring : "");
	cJSON_Delete(doc);
	append_str(s, head);
	/* one data: line per payload line */
	p = m->payload;
	end = p + m->len;
	do{
		e = memchr(p, '\n', (size_t)(end - p));
		if(e == NULL) e = end;
		append_str(s, "data: ");
		append(s, p, (size_t)(e - p));
		append_str(s, "\n");
		p = e + 1;
	}while(p < end);
	append_str(s, "\n");
}

void sse_tick(struct hconn *c, uint64_t now)
{
	struct hreq *r = c->stream;
	struct sse_stream *s = r ? r->sse : NULL;

	if(s == NULL) return;
	if(!r->done && now >= s->started + (uint64_t)g.opt.request_timeout){
		req_error(r, 504, "the broker did not answer the subscription in time");
		req_finish(r);
		return;
	}
	if(s->has_response && now >= s->next_beat){
		s->next_beat = now + (uint64_t)g.opt.sse_heartbeat * 1000;
		append_str(s, ": keep-alive\n\n");
	}
}

void sse_conn_lost(struct hconn *c, int status, const char *msg)
{
	struct hreq *r = c->stream;
	struct sse_stream *s = r ? r->sse : NULL;

	if(r == NULL) return;
	if(!r->done){
		req_error(r, status, "%s", msg);
		req_finish(r);
	}
	if(s){
		s->ended = true;
		wake_reader(s);
	}
}

/* Frees s and gives up its connection. Under g.lock. */
static void stream_free(struct sse_stream *s)
{
	if(s->c){
		if(s->c->stream == s->r) s->c->stream = NULL;
		s->c->closing = true;
		pool_release(s->c);
	}
	if(s->r) s->r->sse = NULL;
	g.npolls--;
	free(s->buf);
	free(s);
	pool_wake();
}

/* Called by req_free for a request with a stream (under g.lock). */
void sse_req_gone(struct hreq *r)
{
	struct sse_stream *s = r->sse;

	if(s == NULL) return;
	s->r = NULL;
	if(s->c && s->c->stream == r) s->c->stream = NULL;
	if(!s->has_response) stream_free(s);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_stream *s = cls;
	ssize_t n = 0;

	(void)pos;
	pthread_mutex_lock(&g.lock);
	if(s->r){
		s->r->suspended = false;
		s->r->resume_queued = false;
	}
	if(s->off < s->len){
		n = (ssize_t)(s->len - s->off < max ? s->len - s->off : max);
		memcpy(buf, s->buf + s->off, (size_t)n);
		s->off += (size_t)n;
	}else if(s->ended || s->r == NULL){
		n = MHD_CONTENT_READER_END_OF_STREAM;
	}else{
		s->r->suspended = true;
		MHD_suspend_connection(s->r->mc);
	}
	pthread_mutex_unlock(&g.lock);
	return n;
}

static void reader_free(void *cls)
{
	pthread_mutex_lock(&g.lock);
	stream_free(cls);
	pthread_mutex_unlock(&g.lock);
}

struct MHD_Response *sse_response(struct hreq *r)
{
	struct sse_stream *s = r->sse;
	struct MHD_Response *resp;

	if(s == NULL) return NULL;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, reader_free);
	if(resp == NULL) return NULL;
	s->has_response = true;
	s->next_beat = now_ms() + (uint64_t)g.opt.sse_heartbeat * 1000;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	append_str(s, "retry: 3000\n: subscribed\n\n");
	return resp;
}

bool sse_route(struct hreq *r, char **seg, int n)
{
	const char *dev, *err = NULL;
	struct sse_stream *s;
	struct hconn *c;
	char filter[300];

	if(n != 3 || strcmp(seg[2], "events") != 0) return false;
	if(!route_method(r, "GET")) return true;
	dev = req_query(r, "device");
	if(dev && !dev_id_ok(dev)) return route_bad_device(r, dev);
	if(g.npolls >= g.opt.max_polls){
		req_header(r, "Retry-After", "1");
		req_error(r, 503, "too many long-polls and streams (max-polls %d)", g.opt.max_polls);
		return true;
	}
	s = calloc(1, sizeof(*s));
	if(s == NULL){
		req_error(r, 500, "out of memory");
		return true;
	}
	c = pool_get(HC_SSE, r->user, r->pass, NULL, &err);
	if(c == NULL){
		free(s);
		req_error(r, strstr(err, "reachable") ? 502 : 503, "%s", err);
		return true;
	}
	snprintf(filter, sizeof(filter), "$c2d/%s/events/#", dev ? dev : "+");
	c->sub_filter = strdup(filter);
	c->sub_jobs = dev == NULL;
	c->stream = r;
	c->users++; /* the stream's own, released by stream_free */
	s->c = c;
	s->r = r;
	s->started = now_ms();
	r->sse = s;
	r->conn = c;
	r->kind = HR_SSE;
	g.npolls++;
	return true;
}
