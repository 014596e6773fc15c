/* Writes the qrec seed corpus (test/fuzz/corpus/qrec/) with the real
 * encoder. Run once by hand when the record layout changes:
 *   cc -Iinclude -o /tmp/gen test/fuzz/gen_qrec_seeds.c plugin/qrec.c plugin/rec.c && /tmp/gen DIR
 * into an empty DIR, then copy each file to test/fuzz/corpus/qrec/ with a v3- prefix (the seeds
 * without it are schema 1.x records, for c2d_qrec_decode_old). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_qrec.h"

static void put(const char *dir, const char *name, const struct c2d_qrec *r)
{
	char path[512];
	void *buf;
	size_t len;
	FILE *f;

	if(c2d_qrec_encode(r, &buf, &len) != 0){
		fprintf(stderr, "%s: encode failed\n", name);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if(f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0){
		perror(path);
		exit(1);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	static const unsigned char corr[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
	static const char json[] = "{\"cmd\":\"blink\",\"n\":3}";
	const char *dir = argc > 1 ? argv[1] : ".";
	struct c2d_qrec r;

	memset(&r, 0, sizeof(r));
	r.kind = C2D_QK_MSG;
	r.state = C2D_QS_QUEUED;
	put(dir, "msg-empty", &r);

	r.sender = "app-1";
	r.created_ms = 1795460000123ull;
	r.expires_ms = 1795463600123ull;
	r.due_ms = 1795463600123ull;
	r.timeout_ms = 30000;
	r.payload = json;
	r.payload_len = sizeof(json) - 1;
	put(dir, "msg-queued", &r);

	r.state = C2D_QS_SENT;
	r.deliveries = 2;
	r.resp_topic = "replies/app-1";
	r.corr = corr;
	r.corr_len = sizeof(corr);
	r.content_type = "application/json";
	put(dir, "msg-sent-v5", &r);

	memset(&r, 0, sizeof(r));
	r.kind = C2D_QK_RPC;
	r.state = C2D_QS_QUEUED;
	r.method = "reboot";
	put(dir, "rpc-minimal", &r);

	r.state = C2D_QS_DELIVERED;
	r.sender = "app-\xC3\xA9";
	r.resp_topic = "replies/app/1";
	r.corr = corr;
	r.corr_len = sizeof(corr);
	r.content_type = "application/octet-stream";
	r.deliveries = 3;
	r.retries_left = 2;
	r.timeout_ms = 4000000001u;
	r.created_ms = 1795460000123ull;
	r.expires_ms = 1795460360123ull;
	r.due_ms = 0x0102030405060708ull;
	r.payload = "\x01\x00\x02\xfe";
	r.payload_len = 4;
	put(dir, "rpc-delivered", &r);

	r.state = C2D_QS_SENT;
	r.payload = NULL;
	r.payload_len = 0;
	r.content_type = "";
	put(dir, "rpc-sent-empty-ctype", &r);

	/* version 2: the extension */
	r.retries = 5;
	r.ttl_s = 360;
	put(dir, "rpc-v2-requested", &r);
	r.state = C2D_QS_SUCCESSFUL;
	r.status = 200;
	r.finished_ms = 1795460001000ull;
	put(dir, "rpc-v2-history", &r);
	memset(&r, 0, sizeof(r));
	r.kind = C2D_QK_MSG;
	r.state = C2D_QS_DEAD;
	r.status = 410;
	put(dir, "msg-v2-dead", &r);
	return 0;
}
