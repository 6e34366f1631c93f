/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records: small JSON objects that nodepath keeps next to its pinned maps
 * (endpoint and service metadata). bpffs holds no regular files, so a
 * record is a symlink whose target is the object's JSON text.
 */
#ifndef NP_RECORD_H
#define NP_RECORD_H

#include <stdbool.h>

struct json_object;

/*
 * Write o as the symlink path. With replace, an existing record is unlinked
 * first (bpffs refuses rename(): callers replace under the node lock);
 * without it an existing path fails with -EEXIST. Logs "write <what> <path>"
 * on failure. 0 or -errno.
 */
int np_record_write(const char *path, struct json_object *o, bool replace, const char *what);
/* Parse the record at path into *out (put it with json_object_put). 0, -errno or -EBADMSG. */
int np_record_read(const char *path, struct json_object **out);
/* o[key] as a string; NULL when absent or not a string. */
const char *np_record_str(struct json_object *o, const char *key);
/* o[key] as an integer; -1 when absent or not an integer. */
long long np_record_int(struct json_object *o, const char *key);

#endif /* NP_RECORD_H */
