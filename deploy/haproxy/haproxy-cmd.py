#!/usr/bin/env python3
"""Sends one command to HAProxy's admin socket and prints the answer.

    deploy/haproxy/haproxy-cmd.py SOCKET "show stat"
    deploy/haproxy/haproxy-cmd.py SOCKET "disable server ftp_instances/nm2"

What `socat` does for HAProxy's manual, without another package: scripts/farm-test.sh and
bench/farm.sh use it to read the health checks' view and to take instances out.
"""
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sys.argv[1])
        s.sendall(sys.argv[2].encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    sys.stdout.write(out.decode())


if __name__ == "__main__":
    main()
