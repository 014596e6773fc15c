/* topic.c: $c2d topic classification, device id and name rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_topic.h"
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

/* The view (p, len) must be NULL/0 when want is NULL, else equal want and lie
 * inside topic. */
static void check_view(const char *what, const char *topic, const char *p, size_t len, const char *want)
{
	if(want == NULL){
		ck_assert_msg(p == NULL && len == 0, "%s: %s should be unset", topic, what);
		return;
	}
	ck_assert_msg(p != NULL, "%s: %s unset", topic, what);
	ck_assert_msg(len == strlen(want) && memcmp(p, want, len) == 0,
			"%s: %s is '%.*s', want '%s'", topic, what, (int)len, p, want);
	ck_assert_msg(p >= topic && p + len <= topic + strlen(topic), "%s: %s not a view into the topic", topic, what);
}

/* Parse topic into a struct full of garbage and check every field. */
static void check_parse(const char *topic, enum c2d_topic_kind kind, const char *dev,
		const char *name, const char *rid, int status)
{
	struct c2d_topic t;

	memset(&t, 0x5A, sizeof(t));
	ck_assert_msg(c2d_topic_parse(topic, &t) == kind, "%.200s: kind %s, want %s", topic,
			c2d_topic_kind_name(t.kind), c2d_topic_kind_name(kind));
	ck_assert_int_eq(t.kind, kind);
	check_view("dev", topic, t.dev, t.dev_len, dev);
	check_view("name", topic, t.name, t.name_len, name);
	check_view("rid", topic, t.rid, t.rid_len, rid);
	ck_assert_msg(t.status == status, "%s: status %d, want %d", topic, t.status, status);
}

START_TEST(test_table)
{
	const struct row *r = &rows[_i];

	check_parse(r->topic, r->kind, r->dev, r->name, r->rid, r->status);
}
END_TEST

/* malloc'd: prefix + n copies of c + suffix. */
static char *build(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

/* malloc'd: a + b + c. */
static char *join(const char *a, const char *b, const char *c)
{
	size_t al = strlen(a), bl = strlen(b), cl = strlen(c);
	char *s = malloc(al + bl + cl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, a, al);
	memcpy(s + al, b, bl);
	memcpy(s + al + bl, c, cl + 1);
	return s;
}

/* malloc'd: prefix + n copies of level joined by '/' + suffix. */
static char *build_levels(const char *prefix, const char *level, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), ll = strlen(level), sl = strlen(suffix), i;
	char *s = malloc(pl + n * (ll + 1) + sl + 1), *p;

	ck_assert_ptr_nonnull(s);
	p = s;
	memcpy(p, prefix, pl);
	p += pl;
	for(i = 0; i < n; i++){
		if(i) *p++ = '/';
		memcpy(p, level, ll);
		p += ll;
	}
	memcpy(p, suffix, sl + 1);
	return s;
}

/* A device id of len bytes: 'a's, ending in "\xC3\xA9" if utf8. malloc'd. */
static char *long_id(size_t len, int utf8)
{
	char *s = build("", 'a', len, "");

	if(utf8){
		s[len - 2] = '\xC3';
		s[len - 1] = '\xA9';
	}
	return s;
}

START_TEST(test_dev_length)
{
	static const size_t lens[] = {1, 127, 128, 129, 200};
	char *dev, *topic;
	size_t i;
	int utf8;

	for(i = 0; i < sizeof(lens) / sizeof(lens[0]); i++){
		for(utf8 = 0; utf8 <= (lens[i] >= 2); utf8++){
			enum c2d_topic_kind want = lens[i] <= C2D_DEV_MAX ? C2D_T_MSG : C2D_T_BAD_DEVICE;

			dev = long_id(lens[i], utf8);
			topic = join("$c2d/", dev, "/msg");
			check_parse(topic, want, dev, NULL, NULL, 0);
			free(topic);
			topic = join("$c2d/", dev, "/out/res/1/200");
			check_parse(topic, want == C2D_T_MSG ? C2D_T_OUT_RES : want, dev, "1", NULL, 200);
			free(topic);
			ck_assert(c2d_topic_valid_dev(dev, strlen(dev)) == (lens[i] <= C2D_DEV_MAX));
			free(dev);
		}
	}
}
END_TEST

START_TEST(test_name_length)
{
	static const struct {
		const char *pre, *post;
		enum c2d_topic_kind kind;
		int which; /* 0: name, 1: rid */
	} shapes[] = {
		{"$c2d/d1/rpc/", "", C2D_T_RPC, 0},
		{"$c2d/d1/callres/", "", C2D_T_CALLRES, 0},
		{"$c2d/d1/out/res/", "", C2D_T_OUT_RES, 0},
		{"$c2d/d1/out/res/", "/204", C2D_T_OUT_RES, 0},
		{"$c2d/d1/out/call/", "/r", C2D_T_OUT_CALL, 0},
		{"$c2d/d1/out/call/m/", "", C2D_T_OUT_CALL, 1},
	};
	static const size_t lens[] = {1, 128, 129};
	char *name, *topic;
	size_t i, j;

	for(i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++){
		for(j = 0; j < sizeof(lens) / sizeof(lens[0]); j++){
			bool ok = lens[j] <= C2D_NAME_MAX;
			const char *other = shapes[i].kind == C2D_T_OUT_CALL ? (shapes[i].which ? "m" : "r") : NULL;

			name = long_id(lens[j], lens[j] >= 2);
			topic = join(shapes[i].pre, name, shapes[i].post);
			if(!ok){
				check_parse(topic, C2D_T_INVALID, NULL, NULL, NULL, 0);
			}else if(shapes[i].which){
				check_parse(topic, shapes[i].kind, "d1", other, name, 0);
			}else{
				check_parse(topic, shapes[i].kind, "d1", name, other,
						strcmp(shapes[i].post, "/204") == 0 ? 204 : 0);
			}
			ck_assert(c2d_topic_valid_name(name, strlen(name)) == ok);
			free(topic);
			free(name);
		}
	}
}
END_TEST

#define BIG (64 * 1024)

START_TEST(test_long_topics)
{
	char *t, *dev;

	t = build("$c2d/d1/in/", 'a', BIG, "");
	check_parse(t, C2D_T_IN, "d1", NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/events/", 'a', BIG, "");
	check_parse(t, C2D_T_EVENTS, "d1", NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/rpc/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/out/res/", 'a', BIG, "/200");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/out/call/m/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/", 'a', BIG, "/msg");
	dev = build("", 'a', BIG, "");
	check_parse(t, C2D_T_BAD_DEVICE, dev, NULL, NULL, 0);
	free(dev);
	free(t);
	t = build("$c2d/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/in/", '/', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/", '/', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("sensors/", 'a', BIG, "");
	check_parse(t, C2D_T_OTHER, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/twin/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
}
END_TEST

START_TEST(test_many_levels)
{
	static const struct {
		const char *pre, *post;
		enum c2d_topic_kind kind;
	} cases[] = {
		{"$c2d/d1/in/", "", C2D_T_IN},
		{"$c2d/d1/events/", "", C2D_T_EVENTS},
		{"$c2d/d1/call/", "", C2D_T_CALL},
		{"$c2d/d1/in/", "/", C2D_T_INVALID},
		{"$c2d/d1/in/", "//x", C2D_T_INVALID},
		{"$c2d/d1/twin/get/", "", C2D_T_INVALID},
		{"$c2d/d1/msg/", "", C2D_T_INVALID},
		{"$c2d/d1/rpc/m/", "", C2D_T_INVALID},
		{"$c2d/d1/out/res/1/200/", "", C2D_T_INVALID},
		{"$c2d/d1/out/call/m/r/", "", C2D_T_INVALID},
		{"$c2d/d1/unknown/", "", C2D_T_INVALID},
		{"$c2d/", "", C2D_T_INVALID},
		{"a/", "", C2D_T_OTHER},
	};
	char *t;
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		t = build_levels(cases[i].pre, "x", 20000, cases[i].post);
		if(cases[i].kind == C2D_T_INVALID || cases[i].kind == C2D_T_OTHER){
			check_parse(t, cases[i].kind, NULL, NULL, NULL, 0);
		}else{
			check_parse(t, cases[i].kind, "d1", NULL, NULL, 0);
		}
		free(t);
	}
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

struct vcase {
	const char *s;
	size_t len;
	bool dev, name;
};

#define V(lit, d, n) {lit, sizeof(lit) - 1, d, n}

static const struct vcase vcases[] = {
	V("d1", true, true),
	V("a", true, true),
	V("a$", true, true),
	V("a$b", true, true),
	V("with space", true, true),
	V("-_.:;@!%&*()=~", true, true),
	V("d\xC3\xA9v", true, true),
	V("\xE2\x82\xAC", true, true),
	V("\xF0\x9F\x98\x80", true, true),
	V("\xF4\x8F\xBF\xBF", true, true),
	V("\xEF\xBF\xBF", true, true),
	V("\x7F", true, true),
	V("\x01", true, true),
	V("", false, false),
	V("$", false, false),
	V("$d", false, false),
	V("$SYS", false, false),
	V("a/b", false, false),
	V("/", false, false),
	V("a/", false, false),
	V("+", false, false),
	V("a+", false, false),
	V("#", false, false),
	V("a#b", false, false),
	V("a\0b", false, false),
	V("\0", false, false),
	V("a\0", false, false),
	V("\xC0\xAF", false, false),
	V("\xC0\x80", false, false),
	V("\xC1\xBF", false, false),
	V("\xE0\x80\xAF", false, false),
	V("\xE0\x9F\xBF", false, false),
	V("\xF0\x80\x80\xAF", false, false),
	V("\xF0\x8F\xBF\xBF", false, false),
	V("\xED\xA0\x80", false, false),
	V("\xED\xAF\xBF\xED\xB0\x80", false, false),
	V("\xED\xBF\xBF", false, false),
	V("\xF4\x90\x80\x80", false, false),
	V("\xF7\xBF\xBF\xBF", false, false),
	V("\xF8\x88\x80\x80\x80", false, false),
	V("\xFC\x84\x80\x80\x80\x80", false, false),
	V("\xFE", false, false),
	V("\xFF", false, false),
	V("\x80", false, false),
	V("a\x80", false, false),
	V("\xBF", false, false),
	V("\xC3", false, false),
	V("a\xC3", false, false),
	V("\xE2\x82", false, false),
	V("\xF0\x9F\x98", false, false),
	V("\xC3z", false, false),
	V("\xE2z\xAC", false, false),
	V("\xC3\xA9\xA9", false, false),
};

START_TEST(test_valid)
{
	const struct vcase *v = &vcases[_i];

	ck_assert_msg(c2d_topic_valid_dev(v->s, v->len) == v->dev, "valid_dev case %d", _i);
	ck_assert_msg(c2d_topic_valid_name(v->s, v->len) == v->name, "valid_name case %d", _i);
}
END_TEST

START_TEST(test_valid_len)
{
	/* only len bytes count, whatever follows */
	ck_assert(c2d_topic_valid_dev("abc$", 3));
	ck_assert(c2d_topic_valid_dev("a/b", 1));
	ck_assert(c2d_topic_valid_name("m+", 1));
	ck_assert(!c2d_topic_valid_dev("\xC3\xA9", 1));
	ck_assert(!c2d_topic_valid_name("\xF0\x9F\x98\x80", 3));
	ck_assert(!c2d_topic_valid_dev("abc", 0));
	ck_assert(!c2d_topic_valid_dev(NULL, 0));
	ck_assert(!c2d_topic_valid_name(NULL, 0));
}
END_TEST

START_TEST(test_writer)
{
	static const struct {
		enum c2d_topic_kind kind;
		enum c2d_writer w;
	} w[] = {
		{C2D_T_OTHER, C2D_W_ANY},
		{C2D_T_INVALID, C2D_W_NOBODY},
		{C2D_T_BAD_DEVICE, C2D_W_NOBODY},
		{C2D_T_TWIN_GET, C2D_W_ANY},
		{C2D_T_TWIN_DESIRED, C2D_W_ANY},
		{C2D_T_TWIN_DELETE, C2D_W_ANY},
		{C2D_T_TWIN_TAGS, C2D_W_ANY},
		{C2D_T_MSG, C2D_W_ANY},
		{C2D_T_RPC, C2D_W_ANY},
		{C2D_T_CALLRES, C2D_W_ANY},
		{C2D_T_OUT_RES, C2D_W_DEVICE},
		{C2D_T_OUT_REPORTED, C2D_W_DEVICE},
		{C2D_T_OUT_CALL, C2D_W_DEVICE},
		{C2D_T_OUT_HELLO, C2D_W_DEVICE},
		{C2D_T_OUT_GW_CONNECT, C2D_W_SELF},
		{C2D_T_OUT_GW_DISCONNECT, C2D_W_SELF},
		{C2D_T_IN, C2D_W_PLUGIN},
		{C2D_T_EVENTS, C2D_W_PLUGIN},
		{C2D_T_CALL, C2D_W_PLUGIN},
	};
	size_t i;

	ck_assert_uint_eq(sizeof(w) / sizeof(w[0]), C2D_T_CALL + 1);
	for(i = 0; i < sizeof(w) / sizeof(w[0]); i++){
		ck_assert_uint_eq(w[i].kind, i);
		ck_assert_int_eq(c2d_topic_writer(w[i].kind), w[i].w);
	}
	ck_assert_int_eq(c2d_topic_writer((enum c2d_topic_kind)(C2D_T_CALL + 1)), C2D_W_NOBODY);
	ck_assert_int_eq(c2d_topic_writer((enum c2d_topic_kind)-1), C2D_W_NOBODY);
}
END_TEST

START_TEST(test_kind_name)
{
	static const char *const want[] = {"other", "invalid", "bad-device", "twin/get",
		"twin/desired", "twin/delete", "twin/tags", "msg", "rpc", "callres", "out/res",
		"out/reported", "out/call", "out/hello", "out/gw/connect", "out/gw/disconnect", "in", "events", "call"};
	size_t i;

	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), C2D_T_CALL + 1);
	for(i = 0; i < sizeof(want) / sizeof(want[0]); i++){
		ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)i), want[i]);
	}
	ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)(C2D_T_CALL + 1)), "?");
	ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)-1), "?");
}
END_TEST

static Suite *topic_suite(void)
{
	Suite *s = suite_create("topic");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_table, 0, ROW_COUNT);
	tcase_add_test(tc, test_dev_length);
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_long_topics);
	tcase_add_test(tc, test_many_levels);
	tcase_add_test(tc, test_null_topic);
	tcase_add_test(tc, test_reuse);
	tcase_add_loop_test(tc, test_valid, 0, (int)(sizeof(vcases) / sizeof(vcases[0])));
	tcase_add_test(tc, test_valid_len);
	tcase_add_test(tc, test_writer);
	tcase_add_test(tc, test_kind_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(topic_suite());
}
