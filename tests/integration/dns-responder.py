#!/usr/bin/env python3
# A stand-in for Docker's embedded DNS in a test's network namespace:
# answers A queries for NAME with ADDRESS, everything else with no answer.
# Usage: dns-responder.py LISTEN_ADDR NAME ADDRESS
import socket
import struct
import sys

listen, name, address = sys.argv[1], sys.argv[2].rstrip(".").lower(), sys.argv[3]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((listen, 53))
while True:
    query, client = sock.recvfrom(4096)
    if len(query) < 12:
        continue
    (qid,) = struct.unpack("!H", query[:2])
    labels, at = [], 12
    while at < len(query) and query[at]:
        labels.append(query[at + 1:at + 1 + query[at]].decode(errors="replace"))
        at += 1 + query[at]
    question = query[12:at + 5]
    qtype = struct.unpack("!H", query[at + 1:at + 3])[0] if at + 3 <= len(query) else 0
    answers = b""
    if ".".join(labels).lower() == name and qtype == 1:
        # a pointer to the question's name, A, IN, TTL 60, 4 bytes
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
    header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1 if answers else 0, 0, 0)
    sock.sendto(header + question + answers, client)
