#include "hostconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci/json.h"
#include "oci/spec.h"

#define CONFIG_DOC "CONFIG"

/* ---- shares ---- */

static bool tag_valid(const char *tag)
{
	size_t len = strlen(tag);

	if (len == 0 || len > AGENT_TAG_MAX)
		return false;
	/* It becomes a directory name under the staging area, too. */
	if (strcmp(tag, ".") == 0 || strcmp(tag, "..") == 0)
		return false;
	for (const char *c = tag; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return false;
	}
	return true;
}

static int parse_share(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct agent_share *s = dst;
	struct json_node node;

	json_member(item, "tag", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &s->tag, err) < 0)
		return -1;
	if (!tag_valid(s->tag))
		return json_error(&node, err,
				  "\"%s\" is not a virtio-fs tag (1-%d of [A-Za-z0-9._-])",
				  s->tag, AGENT_TAG_MAX);
	json_member(item, "destination", &node);
	if (json_require(&node, NULL, err) < 0 ||
	    json_get_string(&node, NULL, &s->destination, err) < 0 ||
	    oci_check_absolute(&node, s->destination, err) < 0 ||
	    json_get_string(item, "source", &s->source, err) < 0 ||
	    json_get_string(item, "path", &s->path, err) < 0 ||
	    json_get_bool(item, "readonly", &s->readonly, err) < 0)
		return -1;
	return 0;
}

static bool is_root_destination(const char *dest)
{
	for (; *dest; dest++)
		if (*dest != '/')
			return false;
	return true;
}

const struct agent_share *agent_config_root_share(const struct agent_config *cfg)
{
	for (size_t i = 0; i < cfg->n_shares; i++)
		if (is_root_destination(cfg->shares[i].destination))
			return &cfg->shares[i];
	return NULL;
}

int agent_config_parse(const char *text, size_t len, struct agent_config *out,
		       novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct agent_config cfg = { 0 };
	struct json_node root, node;

	if (json_doc_parse(CONFIG_DOC, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (!json_present(&root) || json_want_object(&root, NULL, err) < 0)
		return json_error(&root, err, "expected an object");
	/* config.json as the runtime forwarded it, read by oci/'s parser:
	 * the runtime checked it against the bundle, and what it sent is
	 * checked again here, bundle-less, before the guest acts on it. */
	json_member(&root, "config", &node);
	if (json_require(&node, NULL, err) < 0 || oci_spec_from_node(&node, &cfg.spec, err) < 0 ||
	    oci_parse_object_array(&root, "shares", sizeof(*cfg.shares), (void **)&cfg.shares,
				   &cfg.n_shares, parse_share, err) < 0 ||
	    json_get_string(&root, "hostname", &cfg.hostname, err) < 0 ||
	    json_get_bool(&root, "start", &cfg.start, err) < 0) {
		agent_config_release(&cfg);
		return -1;
	}
	json_member(&root, "network", &node);
	if (agent_network_parse(&node, &cfg.network, err) < 0) {
		agent_config_release(&cfg);
		return -1;
	}
	for (size_t i = 0; i < cfg.n_shares; i++) {
		for (size_t j = 0; j < i; j++) {
			if (is_root_destination(cfg.shares[i].destination) &&
			    is_root_destination(cfg.shares[j].destination)) {
				json_member(&root, "shares", &node);
				agent_config_release(&cfg);
				return json_error(&node, err, "more than one share for \"/\"");
			}
		}
	}
	*out = cfg;
	return 0;
}

void agent_config_release(struct agent_config *cfg)
{
	oci_spec_free(cfg->spec);
	for (size_t i = 0; cfg->shares && i < cfg->n_shares; i++) {
		free(cfg->shares[i].tag);
		free(cfg->shares[i].destination);
		free(cfg->shares[i].source);
		free(cfg->shares[i].path);
	}
	free(cfg->shares);
	free(cfg->hostname);
	agent_network_release(&cfg->network);
	memset(cfg, 0, sizeof(*cfg));
}
