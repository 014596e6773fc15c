/* Identity bound to credentials (plugin_opt_identity, protocol-v2 section 1):
 * at BASIC_AUTH, before CONNACK, a client whose id is not the name its
 * credentials prove is refused, so that no client can act as another
 * device. `username`: the CONNECT username; `certificate`: the common name
 * (CN) of the TLS client certificate (a listener with require_certificate
 * true and without use_identity_as_username, which would skip BASIC_AUTH). */
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "c2d.h"
#include "c2d_identity.h"

/* The CN of the client's certificate into buf. True if there is exactly
 * one CN and it fit. */
static bool cert_cn(const struct mosquitto *client, char *buf, size_t len)
{
	X509 *cert = mosquitto_client_certificate(client);
	X509_NAME *name;
	int n;
	bool ok = false;

	if(cert == NULL) return false;
	name = X509_get_subject_name(cert);
	if(name && X509_NAME_get_index_by_NID(name, NID_commonName, -1) >= 0
			&& X509_NAME_get_index_by_NID(name, NID_commonName,
					X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0){
		n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len);
		/* a CN with a NUL inside is shorter than its entry: refuse it */
		ok = n > 0 && (size_t)n < len && strlen(buf) == (size_t)n;
	}
	X509_free(cert); /* mosquitto_client_certificate returns a reference */
	return ok;
}

int c2d_identity_check(const struct c2d *c2d, const struct mosquitto *client, const char *id,
		char *why, size_t whylen)
{
	const char *user;
	char cn[C2D_DEV_MAX + 2];

	switch(c2d->conf.identity){
		case C2D_ID_CLIENTID:
			return 0;
		case C2D_ID_USERNAME:
			user = mosquitto_client_username(client);
			if(user && strcmp(user, id) == 0) return 0;
			snprintf(why, whylen, "its username '%s' is not its client id (plugin_opt_identity username)",
					user ? user : "(none)");
			return C2D_EINVAL;
		case C2D_ID_CERTIFICATE:
			if(!cert_cn(client, cn, sizeof(cn))){
				snprintf(why, whylen, "it presented no client certificate with one common name "
						"(plugin_opt_identity certificate)");
				return C2D_EINVAL;
			}
			if(strcmp(cn, id) == 0) return 0;
			snprintf(why, whylen, "its certificate's CN '%s' is not its client id (plugin_opt_identity certificate)", cn);
			return C2D_EINVAL;
	}
	snprintf(why, whylen, "unknown identity mode");
	return C2D_EINVAL;
}
