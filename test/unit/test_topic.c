/* topic.c: $c2d topic classification: a table of topics and what the parse
 * must make of each (kind, device id, name, request id, status), a NULL
 * topic, and a reused struct keeping nothing of the previous parse.
 * Length and level limits: test_topic_limits.c; the id/name rules, writers
 * and kind names: test_topic_rules.c. The parse check: topic_fx.h. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_topic.h"
#include "topic_fx.h"
#include "../check_main.h"

/* One topic and what c2d_topic_parse must make of it. NULL dev/name/rid:
 * the view must be NULL with length 0. */
struct row {
	const char *topic;
	enum c2d_topic_kind kind;
	const char *dev;
	const char *name;
	const char *rid;
	int status;
};

static const struct row rows[] = {
	/* not ours: decided by the prefix alone */
	{"", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2d", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2d+", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2dx/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$C2D/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2D/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"c2d/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"/$c2d/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{" $c2d/d1/msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$c2d\\d1\\msg", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$SYS/broker/uptime", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"$CONTROL/c2d/v1", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"sensors/d1/temp", C2D_T_OTHER, NULL, NULL, NULL, 0},
	{"/", C2D_T_OTHER, NULL, NULL, NULL, 0},

	/* application side */
	{"$c2d/d1/twin/get", C2D_T_TWIN_GET, "d1", NULL, NULL, 0},
	{"$c2d/d1/twin/desired", C2D_T_TWIN_DESIRED, "d1", NULL, NULL, 0},
	{"$c2d/d1/twin/delete", C2D_T_TWIN_DELETE, "d1", NULL, NULL, 0},
	{"$c2d/d1/twin/tags", C2D_T_TWIN_TAGS, "d1", NULL, NULL, 0},
	{"$c2d/d1/msg", C2D_T_MSG, "d1", NULL, NULL, 0},
	{"$c2d/d1/rpc/reboot", C2D_T_RPC, "d1", "reboot", NULL, 0},
	{"$c2d/d1/rpc/in", C2D_T_RPC, "d1", "in", NULL, 0},
	{"$c2d/d1/rpc/a$b", C2D_T_RPC, "d1", "a$b", NULL, 0},
	{"$c2d/d1/rpc/set temp", C2D_T_RPC, "d1", "set temp", NULL, 0},
	{"$c2d/d1/rpc/m\xC3\xA9thode", C2D_T_RPC, "d1", "m\xC3\xA9thode", NULL, 0},
	{"$c2d/d1/callres/c1", C2D_T_CALLRES, "d1", "c1", NULL, 0},

	/* device side */
	{"$c2d/d1/out/res/42", C2D_T_OUT_RES, "d1", "42", NULL, 0},
	{"$c2d/d1/out/res/200", C2D_T_OUT_RES, "d1", "200", NULL, 0},
	{"$c2d/d1/out/res/42/200", C2D_T_OUT_RES, "d1", "42", NULL, 200},
	{"$c2d/d1/out/res/42/100", C2D_T_OUT_RES, "d1", "42", NULL, 100},
	{"$c2d/d1/out/res/42/202", C2D_T_OUT_RES, "d1", "42", NULL, 202},
	{"$c2d/d1/out/res/42/404", C2D_T_OUT_RES, "d1", "42", NULL, 404},
	{"$c2d/d1/out/res/42/599", C2D_T_OUT_RES, "d1", "42", NULL, 599},
	{"$c2d/d1/out/res/m-7/500", C2D_T_OUT_RES, "d1", "m-7", NULL, 500},
	{"$c2d/d1/out/reported", C2D_T_OUT_REPORTED, "d1", NULL, NULL, 0},
	{"$c2d/d1/out/hello", C2D_T_OUT_HELLO, "d1", NULL, NULL, 0},
	{"$c2d/d1/out/call/time/r1", C2D_T_OUT_CALL, "d1", "time", "r1", 0},
	{"$c2d/d1/out/call/twin/7", C2D_T_OUT_CALL, "d1", "twin", "7", 0},
	/* a gateway's announcements: single (name = sub) and list form */
	{"$c2d/gw1/out/gw/connect/s1", C2D_T_OUT_GW_CONNECT, "gw1", "s1", NULL, 0},
	{"$c2d/gw1/out/gw/disconnect/s1", C2D_T_OUT_GW_DISCONNECT, "gw1", "s1", NULL, 0},
	{"$c2d/gw1/out/gw/connect", C2D_T_OUT_GW_CONNECT, "gw1", NULL, NULL, 0},
	{"$c2d/gw1/out/gw/disconnect", C2D_T_OUT_GW_DISCONNECT, "gw1", NULL, NULL, 0},

	/* plugin only, any depth >= 1 */
	{"$c2d/d1/in/x", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/in/twin/t1", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/in/msg/m1", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/in/rpc/reboot/r1", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/in/reply/r1/200", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/in/$x/+/#", C2D_T_IN, "d1", NULL, NULL, 0},
	{"$c2d/d1/events/presence", C2D_T_EVENTS, "d1", NULL, NULL, 0},
	{"$c2d/d1/events/rpc", C2D_T_EVENTS, "d1", NULL, NULL, 0},
	{"$c2d/d1/events/x/y/z", C2D_T_EVENTS, "d1", NULL, NULL, 0},
	{"$c2d/d1/call/m", C2D_T_CALL, "d1", NULL, NULL, 0},
	{"$c2d/d1/call/m/x/y", C2D_T_CALL, "d1", NULL, NULL, 0},

	/* device ids that look odd but are valid */
	{"$c2d/twin/twin/get", C2D_T_TWIN_GET, "twin", NULL, NULL, 0},
	{"$c2d/msg/msg", C2D_T_MSG, "msg", NULL, NULL, 0},
	{"$c2d/out/out/res/out", C2D_T_OUT_RES, "out", "out", NULL, 0},
	{"$c2d/d$1/msg", C2D_T_MSG, "d$1", NULL, NULL, 0},
	{"$c2d/my device/msg", C2D_T_MSG, "my device", NULL, NULL, 0},
	{"$c2d/x/msg", C2D_T_MSG, "x", NULL, NULL, 0},
	{"$c2d/d\xC3\xA9v/msg", C2D_T_MSG, "d\xC3\xA9v", NULL, NULL, 0},
	{"$c2d/\xE2\x82\xAC/msg", C2D_T_MSG, "\xE2\x82\xAC", NULL, NULL, 0},
	{"$c2d/\xEF\xBF\xBD/msg", C2D_T_MSG, "\xEF\xBF\xBD", NULL, NULL, 0},
	{"$c2d/\xF0\x9F\x98\x80/msg", C2D_T_MSG, "\xF0\x9F\x98\x80", NULL, NULL, 0},
	{"$c2d/\xF4\x8F\xBF\xBF/msg", C2D_T_MSG, "\xF4\x8F\xBF\xBF", NULL, NULL, 0},
	{"$c2d/\xED\x9F\xBF/msg", C2D_T_MSG, "\xED\x9F\xBF", NULL, NULL, 0},
	{"$c2d/\xEE\x80\x80/msg", C2D_T_MSG, "\xEE\x80\x80", NULL, NULL, 0},

	/* under $c2d/ but no protocol shape */
	{"$c2d/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d//", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d//msg", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d///msg", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d//d1/msg", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/$d1", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1//msg", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/msg/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/msg//", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/msg/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/MSG", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/msgs", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/ms", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/+", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/#", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/unknown", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/unknown/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/get/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/get/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin//get", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/put", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/GET", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/ge", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/gets", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/+", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/twin/reported", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/Twin/get", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc//a", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/a/b", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/a/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/$sys", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/$", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/+", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/#", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/a+b", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/a#", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/\xC0\xAF", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/\xED\xA0\x80", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/\x80", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/\xE2\x82", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/rpc/a\xF0\x9F\x98", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/callres", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/callres/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/callres/c1/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/callres/$c1", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/callres/\xFF", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/other", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res//200", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/$1", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/$1/200", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/+/200", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/200/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/200/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/099", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/000", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/600", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/999", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/20", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/2", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/2000", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/0200", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/abc", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/2a0", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/20a", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/-20", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/+20", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/ 20", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/20 ", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/2.0", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/res/1/\xD9\xA2\xD9\xA0\xD9\xA0", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/reported/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/reported/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/hello/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/gw1/out/gw", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/gw1/out/gw/announce/s1", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/gw1/out/gw/connect/$s", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/gw1/out/gw/connect/s1/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/gw1/out/gw/connect/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/m", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/m/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call//r", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/m/r/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/$m/r", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/m/$r", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/m/#", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/out/call/\xC0\xAF/r", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/in", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/in/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/in//x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/in/x/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/in/x//y", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/IN/x", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/events", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/events/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/events/x/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/call", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/call/", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/d1/call//m", C2D_T_INVALID, NULL, NULL, NULL, 0},
	/* a bad name level wins over a bad device */
	{"$c2d/$d/rpc/$m", C2D_T_INVALID, NULL, NULL, NULL, 0},
	{"$c2d/+/out/res/1/700", C2D_T_INVALID, NULL, NULL, NULL, 0},

	/* a protocol shape with a bad {dev}: views still set */
	{"$c2d/$d1/msg", C2D_T_BAD_DEVICE, "$d1", NULL, NULL, 0},
	{"$c2d/$/msg", C2D_T_BAD_DEVICE, "$", NULL, NULL, 0},
	{"$c2d/$SYS/twin/get", C2D_T_BAD_DEVICE, "$SYS", NULL, NULL, 0},
	{"$c2d/+/msg", C2D_T_BAD_DEVICE, "+", NULL, NULL, 0},
	{"$c2d/#/twin/get", C2D_T_BAD_DEVICE, "#", NULL, NULL, 0},
	{"$c2d/d+1/msg", C2D_T_BAD_DEVICE, "d+1", NULL, NULL, 0},
	{"$c2d/d#1/msg", C2D_T_BAD_DEVICE, "d#1", NULL, NULL, 0},
	{"$c2d/d1+/twin/desired", C2D_T_BAD_DEVICE, "d1+", NULL, NULL, 0},
	{"$c2d/\xC0\xAF/msg", C2D_T_BAD_DEVICE, "\xC0\xAF", NULL, NULL, 0},
	{"$c2d/\xC1\xBF/msg", C2D_T_BAD_DEVICE, "\xC1\xBF", NULL, NULL, 0},
	{"$c2d/\xE0\x80\xAF/msg", C2D_T_BAD_DEVICE, "\xE0\x80\xAF", NULL, NULL, 0},
	{"$c2d/\xE0\x9F\xBF/msg", C2D_T_BAD_DEVICE, "\xE0\x9F\xBF", NULL, NULL, 0},
	{"$c2d/\xF0\x80\x80\xAF/msg", C2D_T_BAD_DEVICE, "\xF0\x80\x80\xAF", NULL, NULL, 0},
	{"$c2d/\xF0\x8F\xBF\xBF/msg", C2D_T_BAD_DEVICE, "\xF0\x8F\xBF\xBF", NULL, NULL, 0},
	{"$c2d/\xED\xA0\x80/msg", C2D_T_BAD_DEVICE, "\xED\xA0\x80", NULL, NULL, 0},
	{"$c2d/\xED\xBF\xBF/msg", C2D_T_BAD_DEVICE, "\xED\xBF\xBF", NULL, NULL, 0},
	{"$c2d/\xF4\x90\x80\x80/msg", C2D_T_BAD_DEVICE, "\xF4\x90\x80\x80", NULL, NULL, 0},
	{"$c2d/\xF5\x80\x80\x80/msg", C2D_T_BAD_DEVICE, "\xF5\x80\x80\x80", NULL, NULL, 0},
	{"$c2d/\xF8\x88\x80\x80\x80/msg", C2D_T_BAD_DEVICE, "\xF8\x88\x80\x80\x80", NULL, NULL, 0},
	{"$c2d/\xFE/msg", C2D_T_BAD_DEVICE, "\xFE", NULL, NULL, 0},
	{"$c2d/\xFF/msg", C2D_T_BAD_DEVICE, "\xFF", NULL, NULL, 0},
	{"$c2d/\x80/msg", C2D_T_BAD_DEVICE, "\x80", NULL, NULL, 0},
	{"$c2d/a\xBFz/msg", C2D_T_BAD_DEVICE, "a\xBFz", NULL, NULL, 0},
	{"$c2d/\xC3/msg", C2D_T_BAD_DEVICE, "\xC3", NULL, NULL, 0},
	{"$c2d/\xE2\x82/msg", C2D_T_BAD_DEVICE, "\xE2\x82", NULL, NULL, 0},
	{"$c2d/\xE2\x82z/msg", C2D_T_BAD_DEVICE, "\xE2\x82z", NULL, NULL, 0},
	{"$c2d/\xF0\x9F\x98/msg", C2D_T_BAD_DEVICE, "\xF0\x9F\x98", NULL, NULL, 0},
	{"$c2d/$d/rpc/m", C2D_T_BAD_DEVICE, "$d", "m", NULL, 0},
	{"$c2d/$d/callres/c", C2D_T_BAD_DEVICE, "$d", "c", NULL, 0},
	{"$c2d/$d/out/res/1/200", C2D_T_BAD_DEVICE, "$d", "1", NULL, 200},
	{"$c2d/$d/out/reported", C2D_T_BAD_DEVICE, "$d", NULL, NULL, 0},
	{"$c2d/$d/out/hello", C2D_T_BAD_DEVICE, "$d", NULL, NULL, 0},
	{"$c2d/$d/out/call/m/r", C2D_T_BAD_DEVICE, "$d", "m", "r", 0},
	{"$c2d/$d/in/x", C2D_T_BAD_DEVICE, "$d", NULL, NULL, 0},
	{"$c2d/$d/events/x", C2D_T_BAD_DEVICE, "$d", NULL, NULL, 0},
	{"$c2d/$d/call/x", C2D_T_BAD_DEVICE, "$d", NULL, NULL, 0},
};

#define ROW_COUNT ((int)(sizeof(rows) / sizeof(rows[0])))

START_TEST(test_table)
{
	const struct row *r = &rows[_i];

	check_parse(r->topic, r->kind, r->dev, r->name, r->rid, r->status);
}
END_TEST

START_TEST(test_null_topic)
{
	struct c2d_topic t;

	memset(&t, 0x5A, sizeof(t));
	ck_assert_int_eq(c2d_topic_parse(NULL, &t), C2D_T_OTHER);
	ck_assert_ptr_null(t.dev);
	ck_assert_ptr_null(t.name);
	ck_assert_ptr_null(t.rid);
	ck_assert_int_eq(t.status, 0);
}
END_TEST

/* Same struct reused: nothing of the previous parse may survive. */
START_TEST(test_reuse)
{
	struct c2d_topic t;

	c2d_topic_parse("$c2d/d1/out/call/m/r", &t);
	ck_assert_int_eq(t.kind, C2D_T_OUT_CALL);
	c2d_topic_parse("$c2d/d2/msg", &t);
	ck_assert_int_eq(t.kind, C2D_T_MSG);
	ck_assert_ptr_null(t.name);
	ck_assert_ptr_null(t.rid);
	c2d_topic_parse("$c2d/d1/out/res/1/404", &t);
	ck_assert_int_eq(t.status, 404);
	c2d_topic_parse("$c2d/d1/out/res/1", &t);
	ck_assert_int_eq(t.status, 0);
	c2d_topic_parse("$c2d/d1/out/res/1/404", &t);
	c2d_topic_parse("$c2d/d1/out/res/1/4040", &t);
	ck_assert_int_eq(t.kind, C2D_T_INVALID);
	ck_assert_int_eq(t.status, 0);
	ck_assert_ptr_null(t.name);
}
END_TEST


static Suite *topic_suite(void)
{
	Suite *s = suite_create("topic");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_table, 0, ROW_COUNT);
	tcase_add_test(tc, test_null_topic);
	tcase_add_test(tc, test_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(topic_suite());
}
