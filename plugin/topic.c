/* $c2d topic classification (protocol.md, "Topic map"). Pure: no broker, no
 * LMDB, no allocation. Every view handed back points into the caller's topic
 * string. */
#include <string.h>

#include "c2d_json.h"
#include "c2d_topic.h"

#define PREFIX "$c2d/"
#define PREFIX_LEN 5
/* The deepest fixed shape is $c2d/{dev}/out/res/{id}/{status}: 5 levels after
 * the prefix. in/, events/ and call/ may go deeper; only their count matters. */
#define MAX_LEVELS 5

struct level {
	const char *p;
	size_t len;
};

/* From the one description of every kind (c2d_topic.h). */
static const struct {
	const char *name;
	enum c2d_writer writer;
	bool adds_data;
} kinds[] = {
#define C2D_TOPIC_KIND_ROW(kind, name, writer, adds_data, handler) [kind] = {name, writer, adds_data},
	C2D_TOPIC_KINDS(C2D_TOPIC_KIND_ROW)
#undef C2D_TOPIC_KIND_ROW
};

/* The rules device ids and names share: 1..max bytes of strict UTF-8, none of
 * NUL '+' '#' (and '/' for both: neither may span levels), no leading '$'.
 * s: borrowed. */
static bool valid_level(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	if(s == NULL || len == 0 || len > max || s[0] == '$') return false;
	for(i = 0; i < len; i += n){
		if(u[i] == '\0' || u[i] == '/' || u[i] == '+' || u[i] == '#') return false;
		n = c2d_utf8_seq(u + i, len - i);
		if(n == 0) return false;
	}
	return true;
}

bool c2d_topic_valid_dev(const char *id, size_t len)
{
	return valid_level(id, len, C2D_DEV_MAX);
}

/* Decision: a name is one topic level, so '/' is refused here too (the spec
 * lists it for device ids only); inside c2d_topic_parse it cannot occur. */
bool c2d_topic_valid_name(const char *s, size_t len)
{
	return valid_level(s, len, C2D_NAME_MAX);
}

/* Split s (NUL-terminated, borrowed) on '/'. Stores the first `max` levels in
 * lv and returns how many levels there are in all, or 0 if any level is empty
 * (a leading, trailing or doubled '/', or an empty s). */
static size_t split(const char *s, struct level *lv, size_t max)
{
	const char *slash;
	size_t n = 0, len;

	for(;;){
		slash = strchr(s, '/');
		len = slash ? (size_t)(slash - s) : strlen(s);
		if(len == 0) return 0;
		if(n < max){
			lv[n].p = s;
			lv[n].len = len;
		}
		n++;
		if(slash == NULL) return n;
		s = slash + 1;
	}
}

static bool is(const struct level *l, const char *word)
{
	size_t len = strlen(word);

	return l->len == len && memcmp(l->p, word, len) == 0;
}

/* Status level: exactly three ASCII digits, 100..599. Returns it, or 0. */
static int parse_status(const struct level *l)
{
	int st = 0;
	size_t i;

	if(l->len != 3) return 0;
	for(i = 0; i < 3; i++){
		if(l->p[i] < '0' || l->p[i] > '9') return 0;
		st = st * 10 + (l->p[i] - '0');
	}
	return st >= 100 && st <= 599 ? st : 0;
}

static void set_view(const char **p, size_t *len, const struct level *l)
{
	*p = l->p;
	*len = l->len;
}

/* The shape after {dev}: lv[1..n) with n levels in all. Fills name, rid and
 * status of *out. Returns the kind, or C2D_T_INVALID. */
static enum c2d_topic_kind shape(const struct level *lv, size_t n, struct c2d_topic *out)
{
	const struct level *a = &lv[1];

	if(n == 2 && is(a, "msg")) return C2D_T_MSG;
	if(n == 3 && is(a, "twin")){
		if(is(&lv[2], "get")) return C2D_T_TWIN_GET;
		if(is(&lv[2], "desired")) return C2D_T_TWIN_DESIRED;
		if(is(&lv[2], "delete")) return C2D_T_TWIN_DELETE;
		if(is(&lv[2], "tags")) return C2D_T_TWIN_TAGS;
		return C2D_T_INVALID;
	}
	if(n == 3 && (is(a, "rpc") || is(a, "callres"))){
		set_view(&out->name, &out->name_len, &lv[2]);
		return is(a, "rpc") ? C2D_T_RPC : C2D_T_CALLRES;
	}
	if(n >= 3 && is(a, "in")) return C2D_T_IN;
	if(n >= 3 && is(a, "events")) return C2D_T_EVENTS;
	if(n >= 3 && is(a, "call")) return C2D_T_CALL;
	if(n < 3 || !is(a, "out")) return C2D_T_INVALID;

	if(n == 3 && is(&lv[2], "reported")) return C2D_T_OUT_REPORTED;
	if(n == 3 && is(&lv[2], "hello")) return C2D_T_OUT_HELLO;
	if((n == 4 || n == 5) && is(&lv[2], "res")){
		set_view(&out->name, &out->name_len, &lv[3]);
		if(n == 5){
			out->status = parse_status(&lv[4]);
			if(out->status == 0) return C2D_T_INVALID;
		}
		return C2D_T_OUT_RES;
	}
	if((n == 4 || n == 5) && is(&lv[2], "gw") && (is(&lv[3], "connect") || is(&lv[3], "disconnect"))){
		if(n == 5) set_view(&out->name, &out->name_len, &lv[4]);
		return is(&lv[3], "connect") ? C2D_T_OUT_GW_CONNECT : C2D_T_OUT_GW_DISCONNECT;
	}
	if(n == 5 && is(&lv[2], "call")){
		set_view(&out->name, &out->name_len, &lv[3]);
		set_view(&out->rid, &out->rid_len, &lv[4]);
		return C2D_T_OUT_CALL;
	}
	return C2D_T_INVALID;
}

/* topic: borrowed, NUL-terminated; out: filled, its views borrow from topic.
 * Name levels are checked before {dev}: a topic with a bad name level is
 * INVALID even when its {dev} is bad too. Only BAD_DEVICE and the valid kinds
 * carry views; OTHER and INVALID leave them NULL/0. */
enum c2d_topic_kind c2d_topic_parse(const char *topic, struct c2d_topic *out)
{
	struct level lv[MAX_LEVELS];
	enum c2d_topic_kind kind;
	size_t n;

	memset(out, 0, sizeof(*out));
	/* The hot path: every publish on the broker passes here. */
	if(topic == NULL || strncmp(topic, PREFIX, PREFIX_LEN) != 0){
		out->kind = C2D_T_OTHER;
		return out->kind;
	}

	n = split(topic + PREFIX_LEN, lv, MAX_LEVELS);
	kind = n >= 2 ? shape(lv, n, out) : C2D_T_INVALID;
	if(kind != C2D_T_INVALID
			&& ((out->name && !c2d_topic_valid_name(out->name, out->name_len))
			|| (out->rid && !c2d_topic_valid_name(out->rid, out->rid_len)))){
		kind = C2D_T_INVALID;
	}
	if(kind == C2D_T_INVALID){
		memset(out, 0, sizeof(*out));
	}else{
		set_view(&out->dev, &out->dev_len, &lv[0]);
		if(!c2d_topic_valid_dev(out->dev, out->dev_len)) kind = C2D_T_BAD_DEVICE;
	}
	out->kind = kind;
	return kind;
}

enum c2d_writer c2d_topic_writer(enum c2d_topic_kind kind)
{
	if((unsigned)kind >= C2D_T__COUNT) return C2D_W_NOBODY; /* fail closed */
	return kinds[kind].writer;
}

const char *c2d_topic_kind_name(enum c2d_topic_kind kind)
{
	if((unsigned)kind >= C2D_T__COUNT) return "?";
	return kinds[kind].name;
}

bool c2d_topic_adds_data(enum c2d_topic_kind kind)
{
	return (unsigned)kind < C2D_T__COUNT && kinds[kind].adds_data;
}
