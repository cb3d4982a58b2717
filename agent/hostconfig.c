#include "hostconfig.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci/json.h"
#include "oci/spec.h"
#include "proto/agent.h"
#include "proto/control.h"
#include "util.h"

#define CONFIG_DOC "CONFIG"
#define CONTAINER_DOC "CONTAINER"

/* ---- shares ---- */

static int parse_share(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct agent_share *s = dst;
	struct json_node node;

	json_member(item, "tag", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &s->tag, err) < 0)
		return -1;
	if (!name_is_plain(s->tag, AGENT_TAG_MAX))
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

/* A pod container's shares: all on the pod device, each its own graft. */
static int check_pod_shares(const struct json_node *root, const struct agent_config *cfg,
			    novm_error_t *err)
{
	struct json_node node;

	json_member(root, "shares", &node);
	for (size_t i = 0; i < cfg->n_shares; i++) {
		const struct agent_share *s = &cfg->shares[i];

		if (strcmp(s->tag, PROTO_POD_TAG) != 0)
			return json_error(&node, err, "share %zu: tag \"%s\", not the pod's \"%s\"", i,
					  s->tag, PROTO_POD_TAG);
		if (!s->path || !name_is_plain(s->path, CONTROL_MAX_GRAFT_NAME))
			return json_error(&node, err,
					  "share %zu: \"path\" must name a graft (1-%d of [A-Za-z0-9._-])",
					  i, CONTROL_MAX_GRAFT_NAME);
	}
	/* Without one the root would be the VM's default root device: the
	 * sandbox's. */
	if (!agent_config_root_share(cfg))
		return json_error(&node, err, "no share for \"/\"");
	return 0;
}

/* PROTO_CONFIG's document, and with pod PROTO_CONTAINER's. */
static int parse_document(const char *name, const char *text, size_t len, bool pod,
			  struct agent_config *out, novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct agent_config cfg = { 0 };
	struct json_node root, node;

	if (json_doc_parse(name, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (!json_present(&root) || json_want_object(&root, NULL, err) < 0)
		return json_error(&root, err, "expected an object");
	if (pod) {
		/* The sandbox's business, set at its CONFIG. */
		static const char *const sandbox_only[] = { "start", "hostname", "network" };
		for (size_t i = 0; i < sizeof(sandbox_only) / sizeof(*sandbox_only); i++) {
			json_member(&root, sandbox_only[i], &node);
			if (json_present(&node))
				return json_error(&node, err, "a pod container cannot set \"%s\"",
						  sandbox_only[i]);
		}
		json_member(&root, "id", &node);
		if (json_require(&node, NULL, err) < 0 ||
		    json_get_string(&node, NULL, &cfg.id, err) < 0)
			return -1;
		if (!*cfg.id || strlen(cfg.id) > AGENT_POD_ID_MAX) {
			agent_config_release(&cfg);
			return json_error(&node, err, "expected 1 to %d bytes", AGENT_POD_ID_MAX);
		}
	}
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
	if (pod && check_pod_shares(&root, &cfg, err) < 0) {
		agent_config_release(&cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int agent_config_parse(const char *text, size_t len, struct agent_config *out,
		       novm_error_t *err)
{
	return parse_document(CONFIG_DOC, text, len, false, out, err);
}

int agent_container_parse(const char *text, size_t len, struct agent_config *out,
			  novm_error_t *err)
{
	return parse_document(CONTAINER_DOC, text, len, true, out, err);
}

int agent_exec_in_split(const void *payload, size_t len, uint32_t *target, const char **json,
			size_t *json_len, novm_error_t *err)
{
	uint32_t le;

	if (len < sizeof(le))
		return novm_error(err, 0, "EXEC_IN: payload of %zu bytes, no target session", len);
	memcpy(&le, payload, sizeof(le));
	*target = le32toh(le);
	*json = (const char *)payload + sizeof(le);
	*json_len = len - sizeof(le);
	return 0;
}

size_t agent_share_staging_index(const struct agent_config *cfg, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(cfg->shares[j].tag, cfg->shares[i].tag) == 0)
			return j;
	return i;
}

bool agent_share_staging_readonly(const struct agent_config *cfg, size_t i)
{
	for (size_t j = 0; j < cfg->n_shares; j++) {
		const struct agent_share *s = &cfg->shares[j];

		if (strcmp(s->tag, cfg->shares[i].tag) == 0 &&
		    (!s->readonly || is_root_destination(s->destination)))
			return false;
	}
	return true;
}

void agent_config_release(struct agent_config *cfg)
{
	free(cfg->id);
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
