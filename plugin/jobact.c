/* One job execution handed to its device's own plane (c2d_jobs.h): a twin
 * desired patch (twin plane; a job reference waits for the device's
 * acknowledgement), a queued message or a persistent RPC (queue plane; a
 * job reference finds the execution again at the item's final state).
 * Called by jobrun.c's dispatch slices, in their transaction. */
#include <stdlib.h>
#include <string.h>

#include "c2d_jobs.h"
#include "c2d_jobspec.h"
#include "c2d_queue.h"
#include "c2d_twin_plane.h"

int c2d_job_dispatch_one(struct c2d *c2d, const char *job, cJSON *rec, const char *dev, struct c2d_jexec *x)
{
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "spec"), "action");
	const cJSON *twin = cJSON_GetObjectItemCaseSensitive(action, "twin");
	const cJSON *rpc = cJSON_GetObjectItemCaseSensitive(action, "rpc");
	const cJSON *body = rpc ? rpc : cJSON_GetObjectItemCaseSensitive(action, "msg"), *p;
	struct c2d_qjob qj = {.dev = dev, .rpc = rpc != NULL};
	unsigned char *bytes = NULL;
	char *text = NULL;
	uint64_t ref = 0;
	bool acked = false;
	int rc, status = 0;

	if(twin){
		rc = c2d_twin_job_desired(c2d, dev, cJSON_GetObjectItemCaseSensitive(twin, "desired"), &ref, &acked, &status);
		if(!rc && !status && !acked) rc = c2d_store_jref_t_put(c2d->store, dev, job, ref);
	}else{
		qj.ttl_s = (uint32_t)c2d_jrec_num(body, "ttl");
		if(qj.ttl_s == 0) qj.ttl_s = rpc ? c2d->conf.rpc_ttl_s : c2d->conf.msg_ttl_s;
		if(rpc){
			qj.method = c2d_jrec_str(rpc, "method");
			qj.timeout_ms = (uint32_t)c2d_jrec_num(rpc, "timeout");
			if(qj.timeout_ms == 0) qj.timeout_ms = c2d->conf.rpc_timeout_ms;
			qj.retries = (uint32_t)c2d_jrec_num(rpc, "retries");
			p = cJSON_GetObjectItemCaseSensitive(rpc, "params");
			text = p ? cJSON_PrintUnformatted(p) : NULL;
			if(p && text == NULL) return C2D_ENOMEM;
			qj.payload = text ? text : "";
			qj.len = text ? strlen(text) : 0;
			if(text) qj.content_type = "application/json";
		}else if((p = cJSON_GetObjectItemCaseSensitive(body, "payload")) != NULL){
			qj.payload = p->valuestring;
			qj.len = strlen(p->valuestring);
		}else{
			long n = c2d_jobspec_b64decode(c2d_jrec_str(body, "payloadBase64"), &bytes);

			if(n < 0) return C2D_ENOMEM; /* checked at createJob */
			qj.payload = bytes;
			qj.len = (size_t)n;
		}
		if(!rpc && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "contentType"))){
			qj.content_type = c2d_jrec_str(body, "contentType");
		}
		rc = c2d_queue_push_job(c2d, &qj, &ref);
		if(!rc && ref == 0) status = C2D_ST_TOO_MANY;
		if(!rc && ref) rc = c2d_store_jref_q_put(c2d->store, dev, ref, job);
		cJSON_free(text);
		free(bytes);
	}
	if(rc) return rc;
	x->ref = ref;
	if(status) return c2d_jobx_move(c2d, job, dev, rec, x, C2D_JX_REJECTED, status);
	if(acked) return c2d_jobx_move(c2d, job, dev, rec, x, C2D_JX_SUCCEEDED, C2D_ST_OK);
	return c2d_jobx_move(c2d, job, dev, rec, x, C2D_JX_IN_PROGRESS, 0);
}
