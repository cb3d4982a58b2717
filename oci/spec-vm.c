/* config.json `vm` (runtime-spec config-vm.md): the hypervisor, kernel,
 * image and hardware of a VM-based container. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "json.h"
#include "spec-internal.h"
#include "vm-size.h"

/* An object member holding an absolute `path` that is required when the
 * object is given, as every path in this section is. */
static int parse_path(const struct json_node *obj, const char *key, bool required,
		      char **out, novm_error_t *err)
{
	struct json_node node;

	json_member(obj, key, &node);
	if (required && json_require(&node, NULL, err) < 0)
		return -1;
	if (json_get_string(&node, NULL, out, err) < 0 || oci_check_absolute(&node, *out, err) < 0)
		return -1;
	return 0;
}

static int parse_hw_config(const struct json_node *vm_node, struct oci_vm *vm,
			   novm_error_t *err)
{
	struct json_node hw, node;
	int r;

	/* config-vm.md and the schema say hwConfig, specs-go's tag says
	 * hwconfig: take either */
	json_member(vm_node, "hwConfig", &hw);
	if (!json_present(&hw))
		json_member(vm_node, "hwconfig", &hw);
	if (json_want_object(&hw, NULL, err) < 0)
		return -1;

	json_member(&hw, "vcpus", &node);
	if ((r = json_get_u32(&node, NULL, &vm->vcpus, err)) < 0)
		return -1;
	vm->has_vcpus = r;
	if (r && (vm->vcpus < 1 || vm->vcpus > OCI_VM_MAX_VCPUS))
		return json_error(&node, err, "%" PRIu32 " vCPUs, novm runs 1 to %d", vm->vcpus,
				  OCI_VM_MAX_VCPUS);

	json_member(&hw, "memory", &node);
	if ((r = json_get_u64(&node, NULL, &vm->memory, err)) < 0)
		return -1;
	vm->has_memory = r;
	if (r && (vm->memory < OCI_VM_MIN_MEMORY || vm->memory > OCI_VM_MAX_MEMORY))
		return json_error(&node, err, "%" PRIu64 " bytes, novm runs %llu MiB to %llu MiB",
				  vm->memory, OCI_VM_MIN_MEMORY / OCI_MiB,
				  OCI_VM_MAX_MEMORY / OCI_MiB);
	return 0;
}

int oci_parse_vm(const struct json_node *root, struct oci_vm **out, novm_error_t *err)
{
	struct json_node node, part;
	struct oci_vm *vm;

	json_member(root, "vm", &node);
	if (!json_present(&node))
		return 0;
	if (json_want_object(&node, NULL, err) < 0)
		return -1;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return novm_error(err, ENOMEM, "vm");
	*out = vm;

	json_member(&node, "hypervisor", &part);
	if (json_want_object(&part, NULL, err) < 0 ||
	    parse_path(&part, "path", json_present(&part), &vm->hypervisor_path, err) < 0 ||
	    oci_parse_strv(&part, "parameters", &vm->hypervisor_parameters, err) < 0)
		return -1;

	/* The spec makes kernel required; novm boots its store's default
	 * kernel without one, so only a given kernel object needs a path. */
	json_member(&node, "kernel", &part);
	if (json_want_object(&part, NULL, err) < 0 ||
	    parse_path(&part, "path", json_present(&part), &vm->kernel_path, err) < 0 ||
	    oci_parse_strv(&part, "parameters", &vm->kernel_parameters, err) < 0 ||
	    parse_path(&part, "initrd", false, &vm->kernel_initrd, err) < 0)
		return -1;

	json_member(&node, "image", &part);
	if (json_want_object(&part, NULL, err) < 0 ||
	    parse_path(&part, "path", json_present(&part), &vm->image_path, err) < 0 ||
	    json_get_string(&part, "format", &vm->image_format, err) < 0)
		return -1;

	return parse_hw_config(&node, vm, err);
}

void oci_vm_free(struct oci_vm *vm)
{
	if (!vm)
		return;
	free(vm->hypervisor_path);
	oci_strv_free(&vm->hypervisor_parameters);
	free(vm->kernel_path);
	oci_strv_free(&vm->kernel_parameters);
	free(vm->kernel_initrd);
	free(vm->image_path);
	free(vm->image_format);
	free(vm);
}
