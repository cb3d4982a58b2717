#!/usr/bin/env bats
# Where a container's VM sits on the network: the VMM lives in the
# container's network namespace (the one config.json names, or a new one),
# never in the host's, so a client configuring "the container's namespace"
# through the state's pid cannot touch the host's interfaces; the guest's
# loopback is up.  The host's own links, addresses, routes and neighbours
# are compared before and after the whole file.

load runc

# The host's network as `ip` shows it, without counters that move by
# themselves.
host_network() {
	{
		ip -o link show | sed 's/ qlen [0-9]*//'
		ip -o addr show | sed 's/valid_lft.*//'
		ip route show table all
		ip -6 route show table all
		ip neigh show | awk '{print $1, $2, $3, $4, $5}'
	} 2>&1
}

setup_file() {
	command -v ip >/dev/null || skip "iproute2 is not installed"
	host_network >"$BATS_FILE_TMPDIR/host-net.before"
}

setup() {
	B=$BATS_TEST_TMPDIR/bundle
	RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
	NETNS=novm-test-$$-$BATS_TEST_NUMBER
	novm_require_vm
}

teardown() {
	delete_all
	ip netns del "$NETNS" 2>/dev/null || true
}

# netns_path DIR PATH: the bundle's network namespace is the one at PATH.
netns_path() {
	edit_config "$1" "
for n in cfg['linux']['namespaces']:
    if n['type'] == 'network':
        n['path'] = '$2'"
}

# netns_of PID: the inode of PID's network namespace.
netns_of() {
	stat -L -c %i "/proc/$1/ns/net"
}

@test "network: the VMM makes a network namespace of its own when the spec asks for a new one; lo is up in the guest, and TCP over it works" {
	make_bundle "$B" sh -c '
		mkdir -p /tmp/www && echo hello-over-lo >/tmp/www/index.html
		cat /sys/class/net/lo/flags
		ls /sys/class/net
		httpd -p 127.0.0.1:8080 -h /tmp/www && wget -q -O - http://127.0.0.1:8080/index.html
		sleep 1000'
	runc_bg c1 create --bundle "$B" c1
	assert_run_status 0
	local pid
	pid=$(state_field c1 pid)
	[ "$(netns_of "$pid")" != "$(netns_of $$)" ] || { show_run "the VMM $pid is in the host's network namespace"; false; }
	runc_cmd start c1
	assert_run_status 0
	for _ in $(seq 1 150); do grep -q hello-over-lo "$BATS_TEST_TMPDIR/c1.out" && break; sleep 0.2; done
	output=$(cat "$BATS_TEST_TMPDIR/c1.out")
	# IFF_UP | IFF_LOOPBACK, and no other interface yet.
	[ "$output" = $'0x9\nlo\nhello-over-lo' ] || { show_run "guest network"; false; }
}

@test "network: a namespace made with ip netns and named in config.json is the VMM's" {
	ip netns add "$NETNS"
	make_bundle "$B" sleep 1000
	netns_path "$B" "/var/run/netns/$NETNS"
	runc_bg c2 create --bundle "$B" c2
	assert_run_status 0
	local pid
	pid=$(state_field c2 pid)
	[ "$(netns_of "$pid")" = "$(stat -L -c %i "/var/run/netns/$NETNS")" ] ||
		{ show_run "the VMM is not in $NETNS"; false; }
	runc_cmd delete --force c2
	assert_run_status 0
	assert_nothing_left
}

@test "network: a namespace path that does not exist, or is no network namespace, is refused with a clear error and nothing left" {
	make_bundle "$B" true
	netns_path "$B" /var/run/netns/novm-no-such-namespace
	runc_run "$B" c3
	[ "$status" -eq 1 ] || { show_run "expected status 1"; false; }
	assert_stderr_has 'network namespace `/var/run/netns/novm-no-such-namespace`: No such file or directory'
	assert_nothing_left

	netns_path "$B" /proc/self/ns/uts
	runc_run "$B" c3
	[ "$status" -eq 1 ] || { show_run "expected status 1"; false; }
	assert_stderr_has 'network namespace `/proc/self/ns/uts`: not a network namespace'
	assert_nothing_left
}

@test "network: no network namespace (host networking) is refused: a VM cannot share the host's stack" {
	make_bundle "$B" true
	edit_config "$B" "cfg['linux']['namespaces'] = [n for n in cfg['linux']['namespaces'] if n['type'] != 'network']"
	runc_run "$B" c4
	[ "$status" -eq 1 ] || { show_run "expected status 1"; false; }
	assert_stderr_has "a VM cannot share the host's network stack"
	assert_nothing_left
}

@test "network: the host's links, addresses, routes and neighbours are as they were before this file's containers" {
	host_network >"$BATS_TEST_TMPDIR/host-net.after"
	diff -u "$BATS_FILE_TMPDIR/host-net.before" "$BATS_TEST_TMPDIR/host-net.after" >&2
}
