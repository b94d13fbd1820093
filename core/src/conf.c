/*
 * Reading config files (see aw/conf.h). A missing file is not an error here: the
 * caller decides (the node writes a commented default, a watcher uses its defaults).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/conf.h"
#include "aw/error.h"
#include "aw/files.h"

const char *aw_conf_node_file(int testing)
{
	return testing ? "config-testing.toml" : "config.toml";
}

/* Say that the file is a config file: "cannot read config <path>: why" for a file that
 * cannot be read, "config <path>: line N: why" for one that does not parse. (The
 * message is copied first: it is the buffer aw_error_set writes into.) */
static int config_error(int rc, const char *path, int parsing)
{
	static const char prefix[] = "cannot read ";
	char why[400];
	const char *w = why;

	snprintf(why, sizeof(why), "%s", aw_error_last());
	if (!parsing && !strncmp(why, prefix, sizeof(prefix) - 1))
		return aw_error_set(rc, "cannot read config %s", why + sizeof(prefix) - 1);
	if (!parsing)
		return aw_error_set(rc, "cannot read config %s: %s", path, w);
	return aw_error_set(rc, "config %s: %s", path, w);
}

int aw_conf_read(aw_toml_doc *doc, const char *path)
{
	char *text = NULL;
	int rc;

	memset(doc, 0, sizeof(*doc));
	rc = aw_files_read(&text, NULL, path, AW_CONF_MAX_BYTES);
	if (rc == AW_ENOTFOUND)
		return rc;
	if (rc)
		return config_error(rc, path, 0);
	rc = aw_toml_parse(doc, text);
	free(text);
	if (rc)
		return config_error(rc, path, 1);
	return 0;
}

char *aw_conf_node_api_key(int testing)
{
	char *path = aw_files_config_path(aw_conf_node_file(testing)), *key = NULL;
	const aw_toml_value *v;
	aw_toml_doc doc;

	if (aw_conf_read(&doc, path) == 0) {
		v = aw_toml_get(&doc, "auth", "api_key");
		if (v && v->type == AW_TOML_STRING && v->s[0])
			key = strdup(v->s);
		aw_toml_free(&doc);
	}
	free(path);
	return key;
}
