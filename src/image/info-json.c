/* An image's info as JSON: what `vessel image ls --format json` and
 * `inspect` print and GET /v1/images serves (docs/image.md). */
#include "image/image.h"

#include <jansson.h>

static json_t *strv_json(char **v)
{
	json_t *a;

	if (!v)
		return json_null();
	a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *config_json(const struct vs_image_config *c)
{
	return json_pack("{s:o, s:o, s:o, s:s?, s:s?, s:o, s:s?}", "Entrypoint",
			 strv_json(c->entrypoint), "Cmd", strv_json(c->cmd), "Env",
			 strv_json(c->env), "WorkingDir", c->working_dir, "User", c->user,
			 "ExposedPorts", strv_json(c->exposed_ports), "StopSignal", c->stop_signal);
}

json_t *vs_image_info_to_json(const struct vs_image_info *i)
{
	json_t *layers = json_array();

	for (size_t l = 0; l < i->n_layers; l++)
		json_array_append_new(
			layers, json_pack("{s:s, s:s, s:s, s:I, s:s}", "Digest",
					  i->layers[l].digest, "DiffID", i->layers[l].diff_id,
					  "MediaType", i->layers[l].media_type, "Size",
					  (json_int_t)i->layers[l].size, "Dir", i->layers[l].dir));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:I, s:o, s:o}", "Name", i->name,
			 "Digest", i->digest, "ConfigDigest", i->config_digest, "Created",
			 i->config.created, "Imported", i->imported, "Architecture",
			 i->config.architecture, "Os", i->config.os, "Size", (json_int_t)i->size,
			 "Config", config_json(&i->config), "Layers", layers);
}
