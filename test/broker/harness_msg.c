/* Broker test harness: received messages and MQTT v5 properties (see
 * harness.h).
 * Owns: struct c2d_msg copies of received messages (caller-owned once taken
 * from an inbox; c2d_msg_free), property lists built from struct c2d_props
 * (caller-owned) and the "client generated" copy of a property list.
 */
#include "harness_int.h"

const char *c2d_msg_user_prop(const struct c2d_msg *m, const char *key)
{
	int i;

	if(!m || !key){
		return NULL;
	}
	for(i = 0; i < m->user_prop_count; i++){
		if(!strcmp(m->user_props[i].key, key)){
			return m->user_props[i].value;
		}
	}
	return NULL;
}

bool c2d_msg_corr_eq(const struct c2d_msg *m, const void *corr, int len)
{
	if(!m || !m->corr || !corr){
		return false;
	}
	return m->corr_len == len && memcmp(m->corr, corr, (size_t)len) == 0;
}

void c2d_msg_free(struct c2d_msg *m)
{
	int i;

	if(!m){
		return;
	}
	free(m->topic);
	free(m->payload);
	free(m->corr);
	free(m->response_topic);
	free(m->content_type);
	for(i = 0; i < m->user_prop_count; i++){
		free(m->user_props[i].key);
		free(m->user_props[i].value);
	}
	free(m->user_props);
	mosquitto_property_free_all(&m->props);
	free(m);
}

/* Appends a copy of every property of src to *dst using the add functions,
 * so the result is "client generated" (mosquitto_property_copy_all's result
 * is not, and mosquitto_publish_v5 then sends only its first property).
 * Returns MOSQ_ERR_SUCCESS or an error. */
int c2dh_props_append(mosquitto_property **dst, const mosquitto_property *src)
{
	const mosquitto_property *p;
	int rc = MOSQ_ERR_SUCCESS;

	for(p = src; p && rc == MOSQ_ERR_SUCCESS; p = mosquitto_property_next(p)){
		int id = mosquitto_property_identifier(p);
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		void *bin = NULL;
		char *s = NULL, *v = NULL;

		if(mosquitto_property_read_byte(p, id, &u8, false)){
			rc = mosquitto_property_add_byte(dst, id, u8);
		}else if(mosquitto_property_read_int16(p, id, &u16, false)){
			rc = mosquitto_property_add_int16(dst, id, u16);
		}else if(mosquitto_property_read_int32(p, id, &u32, false)){
			rc = mosquitto_property_add_int32(dst, id, u32);
		}else if(mosquitto_property_read_varint(p, id, &u32, false)){
			rc = mosquitto_property_add_varint(dst, id, u32);
		}else if(mosquitto_property_read_binary(p, id, &bin, &u16, false)){
			rc = mosquitto_property_add_binary(dst, id, bin, u16);
			free(bin);
		}else if(mosquitto_property_read_string_pair(p, id, &s, &v, false)){
			rc = mosquitto_property_add_string_pair(dst, id, s, v);
			free(s);
			free(v);
		}else if(mosquitto_property_read_string(p, id, &s, false)){
			rc = mosquitto_property_add_string(dst, id, s);
			free(s);
		}else{
			rc = MOSQ_ERR_INVAL;
		}
	}
	return rc;
}

mosquitto_property *c2d_props_build(const struct c2d_props *p)
{
	mosquitto_property *pr = NULL;
	int rc = MOSQ_ERR_SUCCESS;
	const char *const *u;

	if(!p){
		return NULL;
	}
	if(p->response_topic){
		rc = mosquitto_property_add_string(&pr, MQTT_PROP_RESPONSE_TOPIC, p->response_topic);
	}
	if(!rc && p->corr){
		int len = p->corr_len > 0 ? p->corr_len : (int)strlen(p->corr);
		rc = mosquitto_property_add_binary(&pr, MQTT_PROP_CORRELATION_DATA, p->corr, (uint16_t)len);
	}
	if(!rc && p->content_type){
		rc = mosquitto_property_add_string(&pr, MQTT_PROP_CONTENT_TYPE, p->content_type);
	}
	if(!rc && p->expiry){
		rc = mosquitto_property_add_int32(&pr, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->expiry);
	}
	for(u = p->user; !rc && u && u[0]; u += 2){
		if(!u[1]){
			fprintf(stderr, DIAG "c2d_props_build: user property \"%s\" has no value\n", u[0]);
			rc = MOSQ_ERR_INVAL;
			break;
		}
		rc = mosquitto_property_add_string_pair(&pr, MQTT_PROP_USER_PROPERTY, u[0], u[1]);
	}
	if(rc){
		fprintf(stderr, DIAG "c2d_props_build: %s\n", mosquitto_strerror(rc));
		mosquitto_property_free_all(&pr);
		return NULL;
	}
	return pr;
}

/* Copies a received message and its properties. Returns: caller owns. */
struct c2d_msg *c2dh_msg_copy(const struct mosquitto_message *src, const mosquitto_property *props)
{
	struct c2d_msg *m = c2dh_xcalloc(1, sizeof(*m));
	const mosquitto_property *p;
	char *k = NULL, *v = NULL;
	uint16_t blen = 0;
	int cap = 0;

	m->topic = c2dh_xstrdup(src->topic ? src->topic : "");
	m->payloadlen = src->payloadlen;
	m->payload = c2dh_xmalloc((size_t)src->payloadlen + 1);
	if(src->payloadlen > 0){
		memcpy(m->payload, src->payload, (size_t)src->payloadlen);
	}
	m->payload[src->payloadlen] = '\0';
	m->qos = src->qos;
	m->retain = src->retain;
	m->mid = src->mid;
	if(!props){
		return m;
	}
	if(c2dh_props_append(&m->props, props) != MOSQ_ERR_SUCCESS){
		fprintf(stderr, DIAG "could not copy the properties of a message on %s\n", m->topic);
	}
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &m->corr, &blen, false)){
		m->corr_len = blen;
	}
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &m->response_topic, false);
	mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &m->content_type, false);
	if(mosquitto_property_read_int32(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &m->expiry, false)){
		m->has_expiry = true;
	}
	p = mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &k, &v, false);
	while(p){
		if(m->user_prop_count == cap){
			struct c2d_user_prop *nu;
			cap = cap ? cap * 2 : 4;
			nu = realloc(m->user_props, (size_t)cap * sizeof(*nu));
			if(!nu){
				c2dh_oom();
			}
			m->user_props = nu;
		}
		m->user_props[m->user_prop_count].key = k;
		m->user_props[m->user_prop_count].value = v;
		m->user_prop_count++;
		k = v = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &k, &v, true);
	}
	return m;
}

/* One line describing m for diagnostics. */
void c2dh_msg_describe(FILE *f, const struct c2d_msg *m)
{
	int i, n = m->payloadlen > 80 ? 80 : m->payloadlen;

	fprintf(f, "    topic \"%s\" qos %d%s payload(%d) \"", m->topic, m->qos, m->retain ? " retained" : "",
			m->payloadlen);
	for(i = 0; i < n; i++){
		unsigned char ch = (unsigned char)m->payload[i];
		fputc(ch >= 0x20 && ch < 0x7f ? ch : '.', f);
	}
	fprintf(f, "%s\"", m->payloadlen > n ? "..." : "");
	if(m->corr){
		fprintf(f, " corr(%d)", m->corr_len);
	}
	if(m->response_topic){
		fprintf(f, " response_topic \"%s\"", m->response_topic);
	}
	for(i = 0; i < m->user_prop_count; i++){
		fprintf(f, " %s=%s", m->user_props[i].key, m->user_props[i].value);
	}
	fputc('\n', f);
}
