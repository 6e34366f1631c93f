// SPDX-License-Identifier: GPL-2.0
/* JSON records kept as bpffs symlinks; see record.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "log.h"
#include "record.h"

int np_record_write(const char *path, struct json_object *o, bool replace, const char *what)
{
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = 0;

	if (replace && unlink(path) && errno != ENOENT)
		err = -errno;
	else if (symlink(txt, path))
		err = -errno;
	if (err)
		np_err("write %s %s: %s", what, path, strerror(-err));
	return err;
}

int np_record_read(const char *path, struct json_object **out)
{
	char txt[PATH_MAX];
	ssize_t len = readlink(path, txt, sizeof(txt) - 1);

	if (len < 0)
		return -errno;
	txt[len] = '\0';
	*out = json_tokener_parse(txt);
	return *out ? 0 : -EBADMSG;
}

const char *np_record_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long np_record_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}
