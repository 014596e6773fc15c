/* Status codes used across modules. 0 is success; the plugin's own codes are
 * negative so they never collide with MOSQ_ERR_* (positive). */
#ifndef C2D_ERR_H
#define C2D_ERR_H

#define C2D_OK 0
#define C2D_ENOTFOUND (-1)  /* no such record */
#define C2D_EFULL (-2)      /* LMDB map full: raise plugin_opt_map_size */
#define C2D_ESTORE (-3)     /* other storage failure (I/O, corruption, ...) */
#define C2D_ENOMEM (-4)
#define C2D_EINVAL (-5)     /* bad argument or malformed record */
#define C2D_ETXN (-6)       /* no write transaction open / one already open */
#define C2D_ESCHEMA (-7)    /* database written by an unknown schema major */

#endif
