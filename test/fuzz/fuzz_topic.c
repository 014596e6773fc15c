/* Fuzz target: $c2d topic classification (plugin/topic.c).
 *
 * The input is used three ways:
 * 1. as a topic, as it is and behind "$c2d/": the result must be
 *    self-consistent (views inside the topic, a valid kind, the topic
 *    rebuilt from its parts equals the input) and agree with an independent
 *    implementation of the device id / name rules (RFC 3629 UTF-8 table);
 * 2. as raw bytes (NULs included) for c2d_topic_valid_dev/_name, against the
 *    same reference;
 * 3. split on '\n' into parts (dev, a, b) put into every protocol shape: the
 *    kind must be exactly what the rules say. */
#include <stdbool.h>

#include "c2d_topic.h"
#include "fuzz.h"

#define PREFIX "$c2d/"
#define PREFIX_LEN 5

/* RFC 3629 section 4, byte by byte. */
static bool ref_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned char lo, hi;

	while(i < len){
		unsigned char c = s[i];

		lo = 0x80;
		hi = 0xBF;
		if(c <= 0x7F){
			i++;
			continue;
		}else if(c >= 0xC2 && c <= 0xDF){
			n = 1;
		}else if(c == 0xE0){
			n = 2;
			lo = 0xA0;
		}else if(c >= 0xE1 && c <= 0xEC){
			n = 2;
		}else if(c == 0xED){
			n = 2;
			hi = 0x9F;
		}else if(c >= 0xEE && c <= 0xEF){
			n = 2;
		}else if(c == 0xF0){
			n = 3;
			lo = 0x90;
		}else if(c >= 0xF1 && c <= 0xF3){
			n = 3;
		}else if(c == 0xF4){
			n = 3;
			hi = 0x8F;
		}else{
			return false;
		}
		if(len - i - 1 < n) return false;
		if(s[i + 1] < lo || s[i + 1] > hi) return false;
		for(k = 2; k <= n; k++){
			if(s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
		}
		i += n + 1;
	}
	return true;
}

static bool ref_level(const char *s, size_t len, size_t max)
{
	size_t i;

	if(len < 1 || len > max || s[0] == '$') return false;
	for(i = 0; i < len; i++){
		if(s[i] == '\0' || s[i] == '/' || s[i] == '+' || s[i] == '#') return false;
	}
	return ref_utf8((const unsigned char *)s, len);
}

static bool ref_status(const char *s)
{
	return strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'
			&& s[2] >= '0' && s[2] <= '9';
}

/* v lies inside [base, base+blen]. */
static bool inside(const char *v, size_t vlen, const char *base, size_t blen)
{
	return v >= base && v <= base + blen && vlen <= (size_t)(base + blen - v);
}

static char *cat(const char *a, const char *b, const char *c, const char *d, const char *e)
{
	const char *p[5] = {a, b, c, d, e};
	size_t len = 0, i;
	char *s;

	for(i = 0; i < 5; i++) len += p[i] ? strlen(p[i]) : 0;
	s = malloc(len + 1);
	if(s == NULL) abort();
	s[0] = '\0';
	for(i = 0; i < 5; i++){
		if(p[i]) strcat(s, p[i]);
	}
	return s;
}

static char *view(const char *p, size_t len)
{
	return fuzz_strndup((const uint8_t *)p, len);
}

/* The topic a valid classification stands for, or NULL when the kind has
 * an open tail (in/, events/, call/). Caller frees. */
static char *rebuild(const struct c2d_topic *t)
{
	char *dev = view(t->dev, t->dev_len), *name = NULL, *rid = NULL, *s = NULL;
	char st[16];

	if(t->name) name = view(t->name, t->name_len);
	if(t->rid) rid = view(t->rid, t->rid_len);
	switch(t->kind){
		case C2D_T_TWIN_GET: s = cat(PREFIX, dev, "/twin/get", NULL, NULL); break;
		case C2D_T_TWIN_DESIRED: s = cat(PREFIX, dev, "/twin/desired", NULL, NULL); break;
		case C2D_T_TWIN_DELETE: s = cat(PREFIX, dev, "/twin/delete", NULL, NULL); break;
		case C2D_T_MSG: s = cat(PREFIX, dev, "/msg", NULL, NULL); break;
		case C2D_T_RPC: s = cat(PREFIX, dev, "/rpc/", name, NULL); break;
		case C2D_T_CALLRES: s = cat(PREFIX, dev, "/callres/", name, NULL); break;
		case C2D_T_OUT_REPORTED: s = cat(PREFIX, dev, "/out/reported", NULL, NULL); break;
		case C2D_T_OUT_CALL:
			FUZZ_ASSERT(name && rid);
			s = cat(PREFIX, dev, "/out/call/", name, "/");
			free(dev);
			dev = s;
			s = cat(dev, rid, NULL, NULL, NULL);
			break;
		case C2D_T_OUT_RES:
			if(t->status){
				snprintf(st, sizeof(st), "/%d", t->status);
			}else{
				st[0] = '\0';
			}
			s = cat(PREFIX, dev, "/out/res/", name, st);
			break;
		default:
			break;
	}
	free(dev);
	free(name);
	free(rid);
	return s;
}

static void check_parse(const char *topic)
{
	struct c2d_topic t;
	size_t tlen = strlen(topic);
	enum c2d_topic_kind k = c2d_topic_parse(topic, &t);
	const char *kn = c2d_topic_kind_name(k);
	enum c2d_writer w = c2d_topic_writer(k);
	char *re, *tail;

	FUZZ_ASSERT(k == t.kind);
	FUZZ_ASSERT(k >= C2D_T_OTHER && k <= C2D_T_CALL);
	FUZZ_ASSERT(kn != NULL && strcmp(kn, "?") != 0);
	FUZZ_ASSERT(w >= C2D_W_ANY && w <= C2D_W_NOBODY);
	if(strncmp(topic, PREFIX, PREFIX_LEN) != 0){
		FUZZ_ASSERT(k == C2D_T_OTHER);
	}else{
		FUZZ_ASSERT(k != C2D_T_OTHER);
	}
	if(k == C2D_T_OTHER || k == C2D_T_INVALID){
		FUZZ_ASSERT(t.dev == NULL && t.name == NULL && t.rid == NULL);
		FUZZ_ASSERT(t.dev_len == 0 && t.name_len == 0 && t.rid_len == 0 && t.status == 0);
		FUZZ_ASSERT(k == C2D_T_OTHER ? w == C2D_W_ANY : w == C2D_W_NOBODY);
		return;
	}
	/* {dev} is the first level after the prefix */
	FUZZ_ASSERT(t.dev == topic + PREFIX_LEN && t.dev_len > 0 && t.dev[t.dev_len] == '/');
	FUZZ_ASSERT((k == C2D_T_BAD_DEVICE) == !ref_level(t.dev, t.dev_len, C2D_DEV_MAX));
	FUZZ_ASSERT(c2d_topic_valid_dev(t.dev, t.dev_len) == (k != C2D_T_BAD_DEVICE));
	if(t.name){
		FUZZ_ASSERT(inside(t.name, t.name_len, topic, tlen));
		FUZZ_ASSERT(t.name[t.name_len] == '/' || t.name[t.name_len] == '\0');
		FUZZ_ASSERT(ref_level(t.name, t.name_len, C2D_NAME_MAX));
	}
	if(t.rid){
		FUZZ_ASSERT(inside(t.rid, t.rid_len, topic, tlen) && t.rid[t.rid_len] == '\0');
		FUZZ_ASSERT(ref_level(t.rid, t.rid_len, C2D_NAME_MAX));
	}
	if(k == C2D_T_BAD_DEVICE){
		FUZZ_ASSERT(w == C2D_W_NOBODY);
		return;
	}
	FUZZ_ASSERT(w != C2D_W_NOBODY);
	FUZZ_ASSERT(t.status == 0 || (k == C2D_T_OUT_RES && t.status >= 100 && t.status <= 599));
	FUZZ_ASSERT((t.name != NULL) == (k == C2D_T_RPC || k == C2D_T_CALLRES || k == C2D_T_OUT_RES
			|| k == C2D_T_OUT_CALL));
	FUZZ_ASSERT((t.rid != NULL) == (k == C2D_T_OUT_CALL));
	re = rebuild(&t);
	if(re){
		FUZZ_ASSERT(strcmp(re, topic) == 0);
		free(re);
	}else{
		/* in/, events/, call/: at least one more level, none empty */
		tail = strchr(topic + PREFIX_LEN, '/') + 1;
		FUZZ_ASSERT(tail[strcspn(tail, "/")] == '/');
		FUZZ_ASSERT(strstr(topic, "//") == NULL && topic[tlen - 1] != '/');
	}
}

/* parts: dev, a, b (any may be ""). Only meaningful when no part has '/'. */
static void check_shapes(const char *dev, const char *a, const char *b)
{
	static const struct {
		const char *fmt1, *fmt2, *fmt3; /* pieces between dev, a and b */
		int uses;                       /* 0: dev only, 1: dev+a, 2: dev+a+b, 3: a=id b=status */
		enum c2d_topic_kind kind;
	} shapes[] = {
		{"/twin/get", NULL, NULL, 0, C2D_T_TWIN_GET},
		{"/twin/desired", NULL, NULL, 0, C2D_T_TWIN_DESIRED},
		{"/twin/delete", NULL, NULL, 0, C2D_T_TWIN_DELETE},
		{"/msg", NULL, NULL, 0, C2D_T_MSG},
		{"/out/reported", NULL, NULL, 0, C2D_T_OUT_REPORTED},
		{"/rpc/", NULL, NULL, 1, C2D_T_RPC},
		{"/callres/", NULL, NULL, 1, C2D_T_CALLRES},
		{"/out/res/", NULL, NULL, 1, C2D_T_OUT_RES},
		{"/out/call/", "/", NULL, 2, C2D_T_OUT_CALL},
		{"/out/res/", "/", NULL, 3, C2D_T_OUT_RES},
	};
	size_t i;
	bool dev_ok = ref_level(dev, strlen(dev), C2D_DEV_MAX);
	bool a_ok = ref_level(a, strlen(a), C2D_NAME_MAX), b_ok = ref_level(b, strlen(b), C2D_NAME_MAX);
	struct c2d_topic t;
	enum c2d_topic_kind want, got;
	char *topic;

	if(strchr(dev, '/') || strchr(a, '/') || strchr(b, '/')) return;
	if(dev[0] == '\0') return; /* "$c2d//msg": an empty level, INVALID (checked below) */
	for(i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++){
		switch(shapes[i].uses){
			case 0:
				topic = cat(PREFIX, dev, shapes[i].fmt1, NULL, NULL);
				want = shapes[i].kind;
				break;
			case 1:
				topic = cat(PREFIX, dev, shapes[i].fmt1, a, NULL);
				want = a_ok ? shapes[i].kind : C2D_T_INVALID;
				break;
			case 2:
				topic = cat(PREFIX, dev, shapes[i].fmt1, a, shapes[i].fmt2);
				{
					char *t2 = cat(topic, b, NULL, NULL, NULL);
					free(topic);
					topic = t2;
				}
				want = a_ok && b_ok ? shapes[i].kind : C2D_T_INVALID;
				break;
			default:
				topic = cat(PREFIX, dev, shapes[i].fmt1, a, shapes[i].fmt2);
				{
					char *t2 = cat(topic, b, NULL, NULL, NULL);
					free(topic);
					topic = t2;
				}
				want = a_ok && ref_status(b) ? shapes[i].kind : C2D_T_INVALID;
				break;
		}
		if(want != C2D_T_INVALID && !dev_ok) want = C2D_T_BAD_DEVICE;
		got = c2d_topic_parse(topic, &t);
		if(got != want){
			fprintf(stderr, "topic '%s': kind %s, want %s\n", topic, c2d_topic_kind_name(got),
					c2d_topic_kind_name(want));
		}
		FUZZ_ASSERT(got == want);
		check_parse(topic);
		free(topic);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), *p, *parts[3] = {"", "", ""}, *nl;
	struct c2d_topic t;
	size_t i;

	if(size > 4096){
		free(s);
		return 0;
	}
	/* 2. raw bytes, NULs included */
	FUZZ_ASSERT(c2d_topic_valid_dev((const char *)data, size) == ref_level((const char *)data, size, C2D_DEV_MAX));
	FUZZ_ASSERT(c2d_topic_valid_name((const char *)data, size) == ref_level((const char *)data, size, C2D_NAME_MAX));

	/* 1. the topic as given and behind the prefix */
	check_parse(s);
	p = cat(PREFIX, s, NULL, NULL, NULL);
	check_parse(p);
	free(p);
	FUZZ_ASSERT(c2d_topic_parse(NULL, &t) == C2D_T_OTHER);

	/* 3. parts */
	p = s;
	for(i = 0; i < 3 && p; i++){
		nl = strchr(p, '\n');
		if(nl) *nl = '\0';
		parts[i] = p;
		p = nl ? nl + 1 : NULL;
	}
	check_shapes(parts[0], parts[1], parts[2]);
	if(parts[0][0] == '\0'){
		p = cat(PREFIX, "/msg", NULL, NULL, NULL);
		FUZZ_ASSERT(c2d_topic_parse(p, &t) == C2D_T_INVALID);
		free(p);
	}
	free(s);
	return 0;
}
