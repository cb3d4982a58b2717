/* Pods (one VM per Kubernetes pod): which container a spec is, from the
 * CRI annotations, and the names its shares get as grafts of the
 * sandbox's pod share (proto/control.h "graft").  Pure functions. */
#ifndef NOVM_RUNTIME_POD_SPEC_H
#define NOVM_RUNTIME_POD_SPEC_H

#include <stddef.h>

#include "error.h"
#include "oci/spec.h"
#include "proto/control.h"

/* containerd's CRI plugin and CRI-O name the pod's containers so. */
#define POD_ANN_CONTAINERD_TYPE "io.kubernetes.cri.container-type"
#define POD_ANN_CONTAINERD_SANDBOX "io.kubernetes.cri.sandbox-id"
#define POD_ANN_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"
#define POD_ANN_CRIO_SANDBOX "io.kubernetes.cri-o.SandboxID"
#define POD_TYPE_SANDBOX "sandbox"
#define POD_TYPE_CONTAINER "container"

enum pod_role {
	POD_ROLE_NONE,		/* a container with a VM of its own, no pod */
	POD_ROLE_SANDBOX,	/* a pod's sandbox: its VM is the pod's */
	POD_ROLE_CONTAINER,	/* a further container in a sandbox's VM */
};

/* The role the annotations give; for POD_ROLE_CONTAINER, *sandbox_id (the
 * spec's string) names the sandbox.  Unknown types, a container without a
 * sandbox id and the two runtimes' annotations disagreeing are errors. */
int pod_classify(const struct oci_spec *spec, enum pod_role *role, const char **sandbox_id,
		 novm_error_t *err);

/* Room for every graft name: CONTROL_MAX_GRAFT_NAME and the NUL. */
#define POD_GRAFT_NAME_SIZE (CONTROL_MAX_GRAFT_NAME + 1)
/* At most this many shares per pod container (the rest of the pod's
 * CONTROL_MAX_GRAFTS stays for the others). */
#define POD_MAX_SHARES 64

/* "<short id>.": the prefix of all of a container's graft names, which
 * `ungraft` takes back at delete.  The short id is the container id with
 * every byte but [A-Za-z0-9-] written as _XX (hex), so no two ids share a
 * prefix and no prefix is the start of another; an id whose short form
 * does not fit is "_h" and a 128-bit hash of it instead. */
void pod_graft_prefix(const char *id, char out[POD_GRAFT_NAME_SIZE]);

/* "<prefix><n>": the name of the container's n-th share. */
int pod_graft_name(const char *prefix, size_t n, char out[POD_GRAFT_NAME_SIZE], novm_error_t *err);

/* The graft name rule of proto/control.h, for what we send. */
bool pod_graft_name_valid(const char *name);

#endif
