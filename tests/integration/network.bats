#!/usr/bin/env bats
# Where a container's VM sits on the network: the VMM lives in the
# container's network namespace (the one config.json names, or a new one),
# never in the host's, so a client configuring "the container's namespace"
# through the state's pid cannot touch the host's interfaces; the guest's
# loopback is up.  The host's own links, addresses, routes and neighbours
# are compared before and after the whole file.

load runc

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
	ip netns pids "$NETNS-peer" 2>/dev/null | xargs -r kill
	ip netns del "$NETNS-peer" 2>/dev/null || true
	ip netns pids "$NETNS" 2>/dev/null | xargs -r kill
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
		for n in /sys/class/net/*; do echo "${n##*/} $(cat $n/flags) $(cat $n/carrier 2>/dev/null)"; done
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
	# lo: IFF_UP | IFF_LOOPBACK.  The namespace had no link: the only other
	# interface is the spare NIC a link added before start would have
	# taken, down (IFF_BROADCAST | IFF_MULTICAST) and without carrier.
	[ "$output" = $'eth0 0x1002 \nlo 0x9 1\nhello-over-lo' ] || { show_run "guest network"; false; }
}

@test "network: a namespace made with ip netns and named in config.json is the VMM's; a link added after boot is a warning" {
	ip netns add "$NETNS"
	make_bundle "$B" sleep 1000
	netns_path "$B" "/var/run/netns/$NETNS"
	runc_bg c2 --log "$BATS_TEST_TMPDIR/log" create --bundle "$B" c2
	assert_run_status 0
	local pid
	pid=$(state_field c2 pid)
	[ "$(netns_of "$pid")" = "$(stat -L -c %i "/var/run/netns/$NETNS")" ] ||
		{ show_run "the VMM is not in $NETNS"; false; }
	# A link that comes after the guest booted cannot be the guest's: the
	# log says so.
	ip -n "$NETNS" link add late0 type veth peer name late1
	for _ in $(seq 1 50); do grep -q "after its VM booted" "$BATS_TEST_TMPDIR/log" && break; sleep 0.1; done
	grep -q "appeared in the container's network namespace after its VM booted" "$BATS_TEST_TMPDIR/log" ||
		{ cat "$BATS_TEST_TMPDIR/log" >&2; echo "no warning for a late link" >&2; false; }
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

# veth_pair NS PEER_NS N: a veth pair between namespaces NS (eth0,
# 10.77.N.2/24, default route via .1) and PEER_NS (peer0, 10.77.N.1/24),
# both made here: traffic stays between the test's namespaces.
veth_pair() {
	local ns=$1 peer=$2 n=$3
	ip netns add "$peer"
	ip -n "$peer" link add peer0 type veth peer name eth0 netns "$ns"
	ip -n "$peer" addr add "10.77.$n.1/24" dev peer0
	ip -n "$peer" link set peer0 up
	ip -n "$peer" link set lo up
	ip -n "$ns" addr add "10.77.$n.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "10.77.$n.1"
}

# net_program N: the guest shows its network, serves a page and fetches one
# from the peer at 10.77.N.1, then a 2 MiB file (segmentation offload and
# merged receive buffers at work).
net_program() {
	cat <<EOF
mkdir -p /tmp/www && echo hello-from-the-vm >/tmp/www/index.html
dd if=/dev/zero of=/tmp/www/big bs=1024 count=2048 2>/dev/null
httpd -p 80 -h /tmp/www
ip addr show dev eth0 | awk '/inet / {print "addr", \$2}'
ip route | grep default
cat /sys/class/net/eth0/address
for i in 1 2 3 4 5 6 7 8 9 10; do timeout 10 wget -q -O - http://10.77.$1.1:8081/ && break; sleep 1; done
echo "peer-big \$(timeout 60 wget -q -O - http://10.77.$1.1:8081/big | wc -c)"
nslookup peer.test 2>&1 | sed -n 's/^Address: *\(10\.77\..*\)/resolved \1/p'
echo guest-done
sleep 1000
EOF
}

# serve_in_peer PEER_NS: a page at port 8081 in the peer namespace.
serve_in_peer() {
	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo hello-from-the-peer >"$BATS_TEST_TMPDIR/www/index.html"
	dd if=/dev/zero of="$BATS_TEST_TMPDIR/www/big" bs=1024 count=2048 2>/dev/null
	ip netns exec "$1" busybox httpd -p 8081 -h "$BATS_TEST_TMPDIR/www"
}

# dns_in_namespace NS BUNDLE N: a resolver at 127.0.0.11 in NS (as Docker's
# embedded DNS is, on user-defined networks) that knows peer.test, and the
# bundle's resolv.conf pointing there.
dns_in_namespace() {
	ip -n "$1" link set lo up
	ip netns exec "$1" python3 "$BATS_TEST_DIRNAME/dns-responder.py" 127.0.0.11 peer.test "10.77.$3.1" \
		</dev/null >/dev/null 2>&1 &
	echo "nameserver 127.0.0.11" >"$BATS_TEST_TMPDIR/resolv.conf"
	edit_config "$2" "cfg['mounts'].append({'destination': '/etc/resolv.conf', 'type': 'bind',
	    'source': '$BATS_TEST_TMPDIR/resolv.conf', 'options': ['rbind', 'ro']})"
}

# check_guest_network ID PEER_NS MAC N: what the guest printed, and the
# guest's page fetched from the peer namespace.
check_guest_network() {
	local id=$1 peer=$2 mac=$3 n=$4
	for _ in $(seq 1 300); do grep -q guest-done "$BATS_TEST_TMPDIR/$id.out" && break; sleep 0.2; done
	output=$(cat "$BATS_TEST_TMPDIR/$id.out")
	grep -q guest-done "$BATS_TEST_TMPDIR/$id.out" || {
		show_run "the guest's program did not finish within 60 s"
		show_vm "$id" "$BATS_TEST_TMPDIR/$id.err" "$BATS_TEST_TMPDIR/log"
		false
	}
	[[ $output == *"addr 10.77.$n.2/24"* ]] || { show_run "eth0's address in the guest"; false; }
	[[ $output == *"default via 10.77.$n.1 dev eth0"* ]] || { show_run "the default route in the guest"; false; }
	[[ $output == *"$mac"* ]] || { show_run "eth0's MAC in the guest is not the link's ($mac)"; false; }
	[[ $output == *hello-from-the-peer* ]] || { show_run "the guest did not reach the peer"; false; }
	[[ $output == *"peer-big 2097152"* ]] || { show_run "the guest did not get the peer's 2 MiB whole"; false; }
	# With dns_in_namespace's resolver only.
	[ ! -f "$BATS_TEST_TMPDIR/resolv.conf" ] || [[ $output == *"resolved 10.77.$n.1"* ]] ||
		{ show_run "the namespace's resolver at 127.0.0.11 did not answer the guest"; false; }
	# (busybox's wget -T crashes: timeout bounds it instead.)
	output=$(ip netns exec "$peer" timeout 20 busybox wget -q -O - "http://10.77.$n.2/" 2>&1)
	[ "$output" = hello-from-the-vm ] || { echo "the peer did not reach the guest: $output" >&2; false; }
	output=$(ip netns exec "$peer" timeout 60 busybox wget -q -O - "http://10.77.$n.2/big" | wc -c)
	[ "$output" = 2097152 ] || { echo "the peer got $output bytes of the guest's 2 MiB" >&2; false; }
}

# assert_backend LOG WHAT: the VMM's log says which backend serves the NIC.
assert_backend() {
	grep -q "$2" "$1" || { cat "$1" >&2; echo "the log does not say: $2" >&2; false; }
}

# end_peer PEER_NS: its server stopped, the namespace (and its veth) gone.
end_peer() {
	ip netns pids "$1" | xargs -r kill
	ip netns del "$1"
}

@test "network: a veth in a namespace made with ip netns becomes the guest's eth0, with its MAC, address and route; traffic both ways on vhost-net where the host has it; the namespace's 127.0.0.11 resolver answers the guest" {
	local peer=$NETNS-peer n=$BATS_TEST_NUMBER mac
	ip netns add "$NETNS"
	veth_pair "$NETNS" "$peer" "$n"
	serve_in_peer "$peer"
	mac=$(ip netns exec "$NETNS" cat /sys/class/net/eth0/address)
	make_bundle "$B" sh -c "$(net_program "$n")"
	netns_path "$B" "/var/run/netns/$NETNS"
	dns_in_namespace "$NETNS" "$B" "$n"
	runc_bg c5 --log "$BATS_TEST_TMPDIR/log" create --bundle "$B" c5
	assert_run_status 0
	runc_cmd start c5
	assert_run_status 0
	check_guest_network c5 "$peer" "$mac" "$n"
	# The harness's L1 loads vhost_net: there the NIC must be on it.
	if [ -e /dev/vhost-net ] || [ "${NOVM_IN_HARNESS:-}" = 1 ]; then
		assert_backend "$BATS_TEST_TMPDIR/log" "NIC 1[^:]*: the driver runs on vhost-net"
	else
		assert_backend "$BATS_TEST_TMPDIR/log" "NIC 1[^:]*: userspace backend"
	fi
	[ -n "$(ip -n "$NETNS" link show | grep novmtap)" ] || { echo "no tap of ours in $NETNS" >&2; false; }
	# A VMM killed outright: delete still gives the namespace back as it was.
	kill -KILL "$(state_field c5 pid)"
	wait_state c5 stopped
	runc_cmd delete c5
	assert_run_status 0
	run ip -n "$NETNS" -o link show
	[[ $output != *novmtap* ]] || { echo "a tap is left: $output" >&2; false; }
	run tc -n "$NETNS" qdisc show dev eth0 ingress
	[ -z "$output" ] || { echo "eth0's ingress qdisc is left: $output" >&2; false; }
	end_peer "$peer"
}

@test "network: a createRuntime hook that moves a veth into the VMM's namespace (Docker's way) gives the guest that link; NOVM_NET_BACKEND=userspace keeps our own virtio-net backend tested" {
	local peer=$NETNS-peer n=$BATS_TEST_NUMBER
	ip netns add "$peer"
	# The hook finds the namespace through the state's pid, as libnetwork
	# does, and configures the link there before the guest boots.
	cat >"$BATS_TEST_TMPDIR/hook" <<EOF
#!/bin/sh
set -e
pid=\$(python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
ip link add hookveth netns $peer type veth peer name eth0 netns \$pid
ip -n $peer addr add 10.77.$n.1/24 dev hookveth
ip -n $peer link set hookveth up
nsenter --net=/proc/\$pid/ns/net sh -c 'ip addr add 10.77.$n.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.77.$n.1'
nsenter --net=/proc/\$pid/ns/net ip -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p' >$BATS_TEST_TMPDIR/mac
EOF
	chmod +x "$BATS_TEST_TMPDIR/hook"
	serve_in_peer "$peer"
	make_bundle "$B" sh -c "$(net_program "$n")"
	edit_config "$B" "cfg['hooks'] = {'createRuntime': [{'path': '$BATS_TEST_TMPDIR/hook'}]}"
	NOVM_NET_BACKEND=userspace runc_bg c6 --log "$BATS_TEST_TMPDIR/log" create --bundle "$B" c6
	assert_run_status 0
	runc_cmd start c6
	assert_run_status 0
	check_guest_network c6 "$peer" "$(cat "$BATS_TEST_TMPDIR/mac")" "$n"
	assert_backend "$BATS_TEST_TMPDIR/log" "NIC 1[^:]*: userspace backend (asked for)"
	! grep -q "vhost-net" "$BATS_TEST_TMPDIR/log" || { cat "$BATS_TEST_TMPDIR/log" >&2; false; }
	runc_cmd delete --force c6
	assert_run_status 0
	end_peer "$peer"
}

# ctr run --cni's way: the namespace is the VMM's own, and the client sets
# it up through the state's pid between create and start.
@test "network: a veth added to the VMM's own namespace between create and start takes the guest's spare NIC, with its MAC, address and route; a link beyond the spares is a warning" {
	local peer=$NETNS-peer n=$BATS_TEST_NUMBER pid mac
	make_bundle "$B" sh -c "$(net_program "$n")"
	runc_bg c7 --log "$BATS_TEST_TMPDIR/log" create --bundle "$B" c7
	assert_run_status 0
	pid=$(state_field c7 pid)
	ip netns add "$peer"
	ip -n "$peer" link add peer0 type veth peer name eth0 netns "$pid"
	ip -n "$peer" addr add "10.77.$n.1/24" dev peer0
	ip -n "$peer" link set peer0 up
	nsenter --net="/proc/$pid/ns/net" sh -c "ip addr add 10.77.$n.2/24 dev eth0 && ip link set eth0 up &&
		ip route add default via 10.77.$n.1 && ip link add extra0 type veth peer name extra1"
	# (ip, not /sys: sysfs stays the host's under nsenter --net)
	mac=$(nsenter --net="/proc/$pid/ns/net" ip -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	serve_in_peer "$peer"
	runc_cmd --log "$BATS_TEST_TMPDIR/log" start c7
	assert_run_status 0
	check_guest_network c7 "$peer" "$mac" "$n"
	grep -q "link extra[01] left out: it came after create and the VM has 1 spare NICs" "$BATS_TEST_TMPDIR/log" ||
		{ cat "$BATS_TEST_TMPDIR/log" >&2; echo "no warning for the links beyond the spare" >&2; false; }
	if [ -e /dev/vhost-net ] || [ "${NOVM_IN_HARNESS:-}" = 1 ]; then
		assert_backend "$BATS_TEST_TMPDIR/log" "NIC 1 (spare): the driver runs on vhost-net"
	fi
	assert_backend "$BATS_TEST_TMPDIR/log" "NIC 1 (spare): connected, link up"
	runc_cmd delete --force c7
	assert_run_status 0
	assert_nothing_left
	end_peer "$peer"
}

@test "network: the host's links, addresses, routes and neighbours are as they were before this file's containers" {
	host_network >"$BATS_TEST_TMPDIR/host-net.after"
	diff -u "$BATS_FILE_TMPDIR/host-net.before" "$BATS_TEST_TMPDIR/host-net.after" >&2
}
