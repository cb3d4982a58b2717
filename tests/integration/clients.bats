#!/usr/bin/env bats
# Real clients driving novm-runc: containerd (ctr), Docker and podman, each
# with its own daemon or storage set up by clients.bash.  Every container
# also shows that it ran in a novm guest (see assert_in_vm).
#
# NOVM_CLIENTS_RUNTIME=runc runs the same tests against plain runc, to tell a
# broken set-up from a broken runtime.

load clients

CTR_IMAGE=docker.io/library/novm-busybox:latest

setup_file() {
	novm_require_vm
	clients_setup
}

teardown_file() {
	clients_teardown
}

# What a test left running, whatever made it fail (only the clients it used:
# each client command costs a second or more under TCG).
teardown() {
	local id
	[ -z "${USED_CTR:-}" ] || for id in $("$CTR" task ls -q 2>/dev/null); do
		"$CTR" task kill -s SIGKILL "$id" >/dev/null 2>&1
		timeout 30 "$CTR" task delete "$id" >/dev/null 2>&1
	done
	[ -z "${USED_CTR:-}" ] || for id in $("$CTR" container ls -q 2>/dev/null); do
		"$CTR" container rm "$id" >/dev/null 2>&1
	done
	# shellcheck disable=SC2046
	[ -z "${USED_DOCKER:-}" ] || [ -z "$("$DOCKER" ps -aq)" ] ||
		timeout 60 "$DOCKER" rm -f $("$DOCKER" ps -aq) >/dev/null 2>&1
	[ -z "${USED_PODMAN:-}" ] || [ -z "$(podman_ ps -aq)" ] ||
		timeout 60 "${PODMAN_CMD[@]}" rm -af -t 0 >/dev/null 2>&1
	# The CNI tests' bridges and docker's user-defined networks, once no
	# container is left on them.
	[ -z "${CNI_CLEANUP:-}" ] || cni_cleanup
	[ -z "${DOCKER_NETWORKS:-}" ] || "$DOCKER" network rm $DOCKER_NETWORKS >/dev/null 2>&1
	true
}

# ctr with our runtime: the shim calls it with runc's command line.
ctr_run() {
	USED_CTR=1
	client "$CTR" run --runc-binary "$CLIENTS_SHIM" --runc-root "$CLIENTS_STATE/ctr-runc" "$@"
}

docker_run() {
	USED_DOCKER=1
	client "$DOCKER" run --runtime novm --network none "$@"
}

podman_run() {
	USED_PODMAN=1
	client "${PODMAN_CMD[@]}" run --runtime novm --network none "$@"
}

# ---------------------------------------------------------------------------
# containerd

@test "ctr run --rm: the command's output, from inside a VM" {
	ctr_run --rm "$CTR_IMAGE" c1 sh -c "echo hi; $VM_PROBE"
	assert_client_status 0
	assert_first_line hi
	assert_in_vm
	runtime_was_called create
	runtime_was_called delete
}

@test "ctr run --rm: the exit status comes back" {
	ctr_run --rm "$CTR_IMAGE" c2 sh -c 'exit 3'
	assert_client_status 3
}

@test "ctr task exec: output and exit status of a process in a running container" {
	ctr_run -d --null-io "$CTR_IMAGE" c3 sleep 600
	assert_client_status 0
	wait_until 60 ctr_task_is c3 RUNNING
	client "$CTR" task exec --exec-id e1 c3 sh -c "echo in-exec; $VM_PROBE"
	assert_client_status 0
	assert_first_line in-exec
	assert_in_vm
	runtime_was_called exec
	client "$CTR" task exec --exec-id e2 c3 sh -c 'exit 5'
	assert_client_status 5
}

@test "ctr task kill: SIGTERM reaches the process; ctr run returns its status" {
	# A foreground `ctr run` in the background, killed through another client.
	USED_CTR=1
	local status_file=$BATS_TEST_TMPDIR/ctr-run.status
	(
		st=0
		timeout -k 10 "$CLIENTS_TIMEOUT" "$CTR" run --rm --null-io --runc-binary "$CLIENTS_SHIM" \
			--runc-root "$CLIENTS_STATE/ctr-runc" "$CTR_IMAGE" c4 \
			sh -c 'trap "exit 42" TERM; while :; do sleep 1; done' || st=$?
		echo "$st" >"$status_file"
	) &
	local runner=$!
	wait_until 90 ctr_task_is c4 RUNNING
	# The trap must be set before the signal comes: give the shell a moment.
	sleep 2
	client "$CTR" task kill c4
	assert_client_status 0
	wait "$runner"
	status=$(cat "$status_file")
	assert_client_status 42
	runtime_was_called "kill c4 15"
}

@test "ctr task delete: a killed task is deleted, with the runtime's state" {
	ctr_run -d --null-io "$CTR_IMAGE" c5 sleep 600
	assert_client_status 0
	wait_until 90 ctr_task_is c5 RUNNING
	client "$CTR" task kill -s SIGKILL c5
	assert_client_status 0
	wait_until 60 ctr_task_is c5 STOPPED || { show_client "c5 is $(ctr_task_status c5), not STOPPED"; false; }
	client "$CTR" task delete c5
	assert_client_status 0
	[ -z "$(ctr_task_status c5)" ] || { show_client "task c5 still listed after delete"; false; }
	runtime_was_called "delete c5"
	[ ! -e "$CLIENTS_STATE/ctr-runc/novm-test/c5" ] || { show_client "runtime state left for c5"; false; }
	client "$CTR" container rm c5
	assert_client_status 0
}

# ---------------------------------------------------------------------------
# Docker

@test "docker run: the command's output, from inside a VM" {
	docker_run --rm "$CLIENTS_IMAGE" sh -c "echo hi; $VM_PROBE"
	assert_client_status 0
	assert_first_line hi
	assert_in_vm
}

@test "docker run: the exit status comes back" {
	docker_run --rm "$CLIENTS_IMAGE" sh -c 'exit 3'
	assert_client_status 3
}

@test "docker run -i: stdin reaches the process" {
	USED_DOCKER=1
	run --separate-stderr bash -c 'printf "line one\nline two\n" | exec "$@"' _ \
		timeout -k 10 "$CLIENTS_TIMEOUT" "$DOCKER" run -i --rm --runtime novm --network none \
		"$CLIENTS_IMAGE" sh -c 'while read -r l; do echo "got: $l"; done; exit 7'
	assert_client_status 7
	assert_first_line "got: line one"
	assert_output_has "got: line two"
}

@test "docker run -t: the process has a terminal; its exit status comes back" {
	USED_DOCKER=1
	client_tty "$DOCKER" run -t --rm --runtime novm --network none "$CLIENTS_IMAGE" \
		sh -c 'test -t 0 && test -t 1 && echo tty-ok; exit 6'
	assert_client_status 6
	assert_output_has tty-ok
}

@test "docker exec: output, exit status and stdin of a process in a running container" {
	docker_run -d --name ex "$CLIENTS_IMAGE" sleep 600
	assert_client_status 0
	client "$DOCKER" exec ex sh -c "echo in-exec; $VM_PROBE"
	assert_client_status 0
	assert_first_line in-exec
	assert_in_vm
	client "$DOCKER" exec ex sh -c 'exit 4'
	assert_client_status 4
	run --separate-stderr bash -c 'echo through-stdin | exec "$@"' _ \
		timeout -k 10 "$CLIENTS_TIMEOUT" "$DOCKER" exec -i ex cat
	assert_client_status 0
	assert_first_line through-stdin
}

@test "docker stop: SIGTERM first, the process's own exit status" {
	docker_run -d --name st "$CLIENTS_IMAGE" \
		sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 1; done'
	assert_client_status 0
	wait_until 60 bash -c '"$1" logs st | grep -q ready' _ "$DOCKER"
	client "$DOCKER" stop -t 60 st
	assert_client_status 0
	run docker_state st
	[ "$output" = "exited 42" ] || { show_client "expected exited 42"; false; }
	client "$DOCKER" logs st
	assert_output_has got-term
}

@test "docker stop: SIGKILL after the timeout when SIGTERM is ignored" {
	docker_run -d --name sk "$CLIENTS_IMAGE" sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done'
	assert_client_status 0
	wait_until 60 bash -c '"$1" logs sk | grep -q ready' _ "$DOCKER"
	local start=$SECONDS
	client "$DOCKER" stop -t 3 sk
	assert_client_status 0
	[ $((SECONDS - start)) -ge 3 ] || { show_client "stopped before the 3 s timeout: SIGTERM was not ignored"; false; }
	run docker_state sk
	[ "$output" = "exited 137" ] || { show_client "expected exited 137"; false; }
}

@test "docker kill: the container dies of SIGKILL" {
	docker_run -d --name kl "$CLIENTS_IMAGE" sleep 600
	assert_client_status 0
	client "$DOCKER" kill kl
	assert_client_status 0
	wait_until 60 docker_is kl exited
	run docker_state kl
	[ "$output" = "exited 137" ] || { show_client "expected exited 137"; false; }
}

@test "docker logs: stdout and stderr of a finished container, kept apart" {
	docker_run -d --name lg "$CLIENTS_IMAGE" sh -c 'echo to-stdout; echo to-stderr >&2'
	assert_client_status 0
	wait_until 120 docker_is lg exited
	client "$DOCKER" logs lg
	assert_client_status 0
	[ "$output" = to-stdout ] && [ "$stderr" = to-stderr ] || { show_client "logs mixed up"; false; }
}

@test "docker rm -f: a running container is gone, with its runtime state" {
	docker_run -d --name rf "$CLIENTS_IMAGE" sleep 600
	assert_client_status 0
	local id=$output
	client "$DOCKER" rm -f rf
	assert_client_status 0
	client "$DOCKER" ps -aq --no-trunc --filter name=rf
	[ -z "$output" ] || { show_client "rf still listed"; false; }
	runtime_was_called delete
	# dockerd gives the runtime --root $exec_root/runtime-<name>/moby.
	! compgen -G "$CLIENTS_STATE/docker-exec/runtime-*/moby/$id" >/dev/null ||
		{ show_client "runtime state left for $id"; false; }
	! pgrep -f -- "$id" >/dev/null || { show_client "a process for $id is still running: $(pgrep -af -- "$id")"; false; }
}

# Docker's default bridge network: the container's veth, moved by dockerd
# into the namespace of the state's pid (the VMM's own), becomes the guest's
# NIC; the published port is dockerd's DNAT to the container's address.

# A page fetched by the host's wget (GNU's: one try, no proxy).
HTTP_GET=(wget -q -t 1 -T 10 --no-proxy -O -)

# show_netns TITLE PID [FILE...]: a failed network test's diagnostics: the
# NAT rules, the host's links, the namespace of PID (the VMM's, if it still
# lives) and the end of each FILE (the runtime's log, the guest's console).
show_netns() {
	local dev f
	{
		echo "--- $1"
		echo "--- iptables-save:"
		iptables-save 2>&1
		echo "--- the host's links and addresses:"
		ip -o link show
		ip -o addr show
		if [ -n "$2" ] && [ "$2" != 0 ]; then
			echo "--- the container's network namespace (pid $2):"
			# A VMM that died is reported, and the rest still shown.
			if nsenter --net="/proc/$2/ns/net" sh -c 'ip -o link show; ip -o addr show; ip route; tc -s qdisc show'; then
				for dev in $(nsenter --net="/proc/$2/ns/net" ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
					nsenter --net="/proc/$2/ns/net" tc -s filter show dev "$dev" ingress || true
				done
			fi
		fi
		# The runtime's log.json, then any further files (a guest console).
		for f in "${@:3}"; do
			[ -z "$f" ] || { echo "--- $f:"; tail -n 30 "$f" || true; }
		done
	} >&2 2>&1
}

# The docker test's: the guest's output and the runtime's log.json.
show_web() {
	show_netns "docker logs web: $("$DOCKER" logs web 2>&1)" \
		"$("$DOCKER" inspect -f '{{.State.Pid}}' web 2>/dev/null)" \
		"$(ls "$CLIENTS_STATE"/containerd-state/io.containerd.runtime.v2.task/moby/*/log.json 2>/dev/null | head -n 1)"
}

@test "docker run -p on the default bridge: busybox httpd in the VM answers on the published port and on docker's address" {
	[ "$CLIENTS_DOCKER_BRIDGE" = 1 ] ||
		skip "dockerd's bridge network only in the harness's L1 (or with NOVM_CLIENTS_DOCKER_BRIDGE=1)"
	USED_DOCKER=1
	client "$DOCKER" run -d --runtime novm --name web -p 8080:80 "$CLIENTS_IMAGE" sh -c "
		$VM_PROBE
		ip -o link show; ip -o -4 addr show
		mkdir -p /www && echo novm-web-page >/www/index.html
		exec httpd -f -p 80 -h /www"
	assert_client_status 0
	local ip mac
	ip=$("$DOCKER" inspect -f '{{.NetworkSettings.IPAddress}}' web)
	mac=$("$DOCKER" inspect -f '{{.NetworkSettings.MacAddress}}' web)
	[ -n "$ip" ] && [ -n "$mac" ] || { show_client "docker gave web no address ('$ip', '$mac')"; false; }
	# Straight to the address docker gave the container, over docker0, once
	# the guest has booted and httpd listens (a deadline, not a count: each
	# wget takes a while under TCG).
	local deadline=$((SECONDS + 120))
	until "${HTTP_GET[@]}" "http://$ip/" >/dev/null 2>&1 || [ "$SECONDS" -ge "$deadline" ]; do
		sleep 1
	done
	client "${HTTP_GET[@]}" "http://$ip/"
	assert_client_status 0 || { show_web; false; }
	assert_first_line novm-web-page
	# Through dockerd's DNAT from the host's loopback to the guest's port 80.
	client "${HTTP_GET[@]}" http://127.0.0.1:8080/
	assert_client_status 0 || { show_web; false; }
	assert_first_line novm-web-page
	# The guest has docker's address and MAC, and the host nothing of the VM's.
	client "$DOCKER" logs web
	assert_in_vm
	[[ $output == *"inet $ip/"* && $output == *"link/ether $mac "* ]] ||
		{ show_client "the guest's NIC lacks docker's $ip or $mac"; false; }
	assert_host_network_untouched
}

# A user-defined network: dockerd's embedded DNS answers at 127.0.0.11 in
# each container's namespace, which the guest reaches through the VMM's relay.
@test "docker: two containers on a user-defined network, each in its VM, reach each other by name through docker's DNS" {
	[ "$CLIENTS_DOCKER_BRIDGE" = 1 ] ||
		skip "dockerd's networks only in the harness's L1 (or with NOVM_CLIENTS_DOCKER_BRIDGE=1)"
	USED_DOCKER=1 DOCKER_NETWORKS=novmnet
	client "$DOCKER" network create novmnet
	assert_client_status 0
	client "$DOCKER" run -d --runtime novm --network novmnet --name peer "$CLIENTS_IMAGE" sh -c "
		mkdir -p /www && echo novm-by-name >/www/index.html
		exec httpd -f -p 80 -h /www"
	assert_client_status 0
	local ip
	ip=$("$DOCKER" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' peer)
	# The second guest asks docker's DNS for "peer" (busybox's nslookup asks
	# the resolv.conf server, never /etc/hosts) and fetches the page by name,
	# until peer's guest has booted and httpd listens (a deadline: each try
	# is slow under TCG).
	client timeout 300 "$DOCKER" run --rm --runtime novm --network novmnet "$CLIENTS_IMAGE" sh -c '
		cat /proc/cmdline /etc/resolv.conf
		nslookup peer
		end=$(($(date +%s) + 150))
		until wget -q -O - http://peer/; do
			[ "$(date +%s)" -lt "$end" ] || exit 1
			sleep 2
		done'
	assert_client_status 0 || { show_netns "peer ($ip): $("$DOCKER" logs peer 2>&1)" 0; false; }
	assert_in_vm
	[[ $output == *"nameserver 127.0.0.11"* ]] ||
		{ show_client "docker did not give the container its embedded DNS"; false; }
	[[ $output == *"Address: $ip"* || $output == *"Address 1: $ip"* ]] ||
		{ show_client "nslookup peer did not answer peer's address $ip"; false; }
	[[ $output == *novm-by-name* ]] || { show_client "no page from peer"; false; }
}

# ---------------------------------------------------------------------------
# CNI networks: podman's default one, and one of the test's for `ctr run
# --cni`.  The CNI bridge plugin leaves its bridge behind when the last
# container goes (by design: the next container reuses it), so the tests
# delete it, for the host_network comparison at the end.

# A CNI network only in the harness's L1, as Docker's bridge: the bridge,
# its iptables rules and (for ctr) /opt/cni/bin and /etc/cni/net.d are
# machine-wide.
cni_skip_outside_harness() {
	[ "$CLIENTS_DOCKER_BRIDGE" = 1 ] ||
		skip "CNI bridge networks only in the harness's L1 (or with NOVM_CLIENTS_DOCKER_BRIDGE=1)"
}

# What the CNI tests made outside the state directory (see CNI_CLEANUP).
cni_cleanup() {
	local br
	for br in cni-podman0 novmcni0; do
		! ip link show "$br" >/dev/null 2>&1 || ip link del "$br"
	done
	rm -f "$CTR_CNI_CONF"
	[ ! -L /opt/cni/bin ] || [ ! -e "$CLIENTS_STATE/opt-cni-made" ] || {
		rm -f /opt/cni/bin
		rmdir /opt/cni 2>/dev/null || true
	}
}

# wait_for_page URL: polls until the guest has booted and httpd listens (a
# deadline, not a count: each wget takes a while under TCG).
wait_for_page() {
	local deadline=$((SECONDS + 120))
	until "${HTTP_GET[@]}" "$1" >/dev/null 2>&1 || [ "$SECONDS" -ge "$deadline" ]; do
		sleep 1
	done
}

# The page-serving program of the docker test, with the guest's NICs first.
WEB_CMD="
	$VM_PROBE
	ip -o link show; ip -o -4 addr show
	mkdir -p /www && echo novm-web-page >/www/index.html
	exec httpd -f -p 80 -h /www"

# podman (rootful, CNI backend: Debian's podman has no netavark) makes the
# namespace, runs CNI's bridge, portmap and firewall plugins in it and gives
# its path in the spec; the VMM joins it.
@test "podman run -p on its default CNI network: busybox httpd in the VM answers on the published port and on podman's address" {
	cni_skip_outside_harness
	USED_PODMAN=1 CNI_CLEANUP=1
	client "${PODMAN_CMD[@]}" run -d --runtime novm --name pweb -p 8081:80 "$CLIENTS_IMAGE" sh -c "$WEB_CMD"
	assert_client_status 0
	local ip mac pid
	ip=$(podman_ inspect -f '{{.NetworkSettings.IPAddress}}' pweb)
	mac=$(podman_ inspect -f '{{.NetworkSettings.MacAddress}}' pweb)
	pid=$(podman_ inspect -f '{{.State.Pid}}' pweb)
	[ -n "$ip" ] && [ -n "$mac" ] || { show_client "podman gave pweb no address ('$ip', '$mac')"; false; }
	# Straight to podman's address over cni-podman0, then through portmap's
	# DNAT from the host's loopback.
	wait_for_page "http://$ip/"
	client "${HTTP_GET[@]}" "http://$ip/"
	assert_client_status 0 || { show_netns "podman logs: $(podman_ logs pweb 2>&1)" "$pid"; false; }
	assert_first_line novm-web-page
	client "${HTTP_GET[@]}" http://127.0.0.1:8081/
	assert_client_status 0 || { show_netns "podman logs: $(podman_ logs pweb 2>&1)" "$pid"; false; }
	assert_first_line novm-web-page
	# The guest has podman's address and MAC.
	client "${PODMAN_CMD[@]}" logs pweb
	assert_in_vm
	[[ $output == *"inet $ip/"* && $output == *"link/ether $mac "* ]] ||
		{ show_client "the guest's NIC lacks podman's $ip or $mac"; false; }
	client "${PODMAN_CMD[@]}" rm -f -t 0 pweb
	assert_client_status 0
	cni_cleanup
	assert_host_network_untouched
}

# ctr's CNI: the first network in /etc/cni/net.d, plugins from /opt/cni/bin,
# neither settable in containerd 1.6's ctr (Debian's plugins are in
# /usr/lib/cni).  Named to sort before podman's 87-podman-bridge.conflist.
CTR_CNI_CONF=/etc/cni/net.d/10-novm-ctr.conflist

# ctr sets the network up after create, in /proc/<task pid>/ns/net: the
# namespace the VMM made itself, after the guest booted.  The VM booted with
# a spare NIC for that: start gives it CNI's link before the process runs.
@test "ctr run --cni: busybox httpd in the VM answers on the address of the test's CNI bridge network" {
	cni_skip_outside_harness
	USED_CTR=1 CNI_CLEANUP=1
	local leases=$CLIENTS_STATE/cni-leases
	mkdir -p /etc/cni/net.d
	if [ ! -e /opt/cni/bin ]; then
		mkdir -p /opt/cni && ln -s /usr/lib/cni /opt/cni/bin
		: >"$CLIENTS_STATE/opt-cni-made"
	fi
	# host-local's leases in the state directory: the test reads the address
	# from there.  No masquerading: only the host talks to the guest.
	cat >"$CTR_CNI_CONF" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "novm-ctr",
  "plugins": [
    {
      "type": "bridge", "bridge": "novmcni0", "isGateway": true, "ipMasq": false,
      "ipam": {
        "type": "host-local", "dataDir": "$leases",
        "ranges": [[{ "subnet": "10.88.77.0/24" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
	ctr_run -d --null-io --cni "$CTR_IMAGE" cweb sh -c "$WEB_CMD"
	assert_client_status 0
	local ip='' pid f log=$CLIENTS_STATE/containerd-state/io.containerd.runtime.v2.task/novm-test/cweb/log.json
	for f in "$leases"/novm-ctr/10.88.77.*; do [ ! -e "$f" ] || ip=${f##*/}; done
	pid=$("$CTR" task ls | awk '$1 == "cweb" { print $2 }')
	[ -n "$ip" ] || { show_client "host-local gave cweb no address"; show_netns "no lease in $leases" "$pid" "$log"; false; }
	wait_for_page "http://$ip/"
	client "${HTTP_GET[@]}" "http://$ip/"
	assert_client_status 0 || {
		show_netns "ctr's CNI network" "$pid" "$log" "$CLIENTS_STATE/ctr-runc/novm-test/cweb/console.log"
		false
	}
	assert_first_line novm-web-page
	# The guest has host-local's address.
	client "$CTR" task exec --exec-id ip cweb sh -c "$VM_PROBE; ip -o -4 addr show"
	assert_client_status 0
	assert_in_vm
	[[ $output == *"inet $ip/24"* ]] || { show_client "the guest's NIC lacks host-local's $ip"; false; }
	client "$CTR" task kill -s SIGKILL cweb
	assert_client_status 0
	wait_until 60 ctr_task_is cweb STOPPED || { show_client "cweb is $(ctr_task_status cweb), not STOPPED"; false; }
	client "$CTR" task delete cweb
	assert_client_status 0
	client "$CTR" container rm cweb
	assert_client_status 0
	cni_cleanup
	assert_host_network_untouched
}

# ---------------------------------------------------------------------------
# podman

@test "podman run: the command's output, from inside a VM" {
	podman_run --rm "$CLIENTS_IMAGE" sh -c "echo hi; $VM_PROBE"
	assert_client_status 0
	assert_first_line hi
	assert_in_vm
}

@test "podman run: the exit status comes back" {
	podman_run --rm "$CLIENTS_IMAGE" sh -c 'exit 3'
	assert_client_status 3
}

@test "podman exec: output and exit status of a process in a running container" {
	podman_run -d --name pe "$CLIENTS_IMAGE" sleep 600
	assert_client_status 0
	client "${PODMAN_CMD[@]}" exec pe sh -c "echo in-exec; $VM_PROBE"
	assert_client_status 0
	assert_first_line in-exec
	assert_in_vm
	client "${PODMAN_CMD[@]}" exec pe sh -c 'exit 4'
	assert_client_status 4
	client "${PODMAN_CMD[@]}" rm -f -t 0 pe
	assert_client_status 0
}

# Last: whatever the containers above did, the host's network is as it was
# before the daemons started (docker0 and its veths aside).
@test "the host's links, addresses, routes and neighbours: nothing of the containers' left" {
	assert_host_network_untouched
}
