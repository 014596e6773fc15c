/* libc2d-device: reported state. A report is an RFC 7396 merge patch sent on
 * $c2d/{dev}/out/reported (QoS 1) when connected. Reports made while offline
 * are composed into one patch (later members win, objects merge member by
 * member) that is sent on the next connect, so memory is bounded by the
 * size of the state, not by the number of reports. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Composes patch (consumed) into into (borrowed): into then means "into,
 * then patch". Returns false on out of memory. */
static bool compose(cJSON *into, cJSON *patch)
{
	cJSON *m, *next, *old;

	for(m = patch->child; m; m = next){
		next = m->next;
		old = cJSON_GetObjectItemCaseSensitive(into, m->string);
		if(cJSON_IsObject(old) && cJSON_IsObject(m)){
			cJSON_DetachItemViaPointer(patch, m);
			if(!compose(old, m)) return false;
			continue;
		}
		cJSON_DetachItemViaPointer(patch, m);
		if(old){
			cJSON_ReplaceItemViaPointer(into, old, m);
		}else{
			cJSON_AddItemToObject(into, m->string, m);
		}
	}
	cJSON_Delete(patch);
	return true;
}

void report_flush(struct c2d_device *d)
{
	char *text;

	if(d->pending_report == NULL) return;
	text = cJSON_PrintUnformatted(d->pending_report);
	if(text && dev_publish(d, "out/reported", text, strlen(text)) == 0){
		cJSON_Delete(d->pending_report);
		d->pending_report = NULL;
	}
	free(text);
}

C2D_API int c2d_device_report(struct c2d_device *d, const char *patch_json)
{
	cJSON *p = patch_json ? cJSON_Parse(patch_json) : NULL;

	if(!cJSON_IsObject(p)){
		cJSON_Delete(p);
		return C2D_DEVICE_EINVAL;
	}
	if(d->pending_report == NULL && dev_publish(d, "out/reported", patch_json, strlen(patch_json)) == 0){
		cJSON_Delete(p);
		return 0;
	}
	if(d->pending_report == NULL){
		d->pending_report = p;
	}else if(!compose(d->pending_report, p)){
		return C2D_DEVICE_ENOMEM;
	}
	report_flush(d);
	return 0;
}
