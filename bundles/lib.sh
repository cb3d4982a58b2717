# Shared by the bundle scripts: write DIR/config.json with `novm-runc spec`,
# no terminal, a writable root (runc's default spec has a read-only one; the
# test bundles are scratch copies), and the process args given (default: sh).
bundle_write_config() {
	local dir=$1
	shift
	local runtime=${NOVM_RUNC:-$(dirname "${BASH_SOURCE[0]}")/../runtime/novm-runc}
	rm -f "$dir/config.json"
	"$runtime" spec --bundle "$dir"
	python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    cfg = json.load(f)
cfg["process"]["terminal"] = False
cfg["root"]["readonly"] = False
if args:
    cfg["process"]["args"] = args
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
PY
}
