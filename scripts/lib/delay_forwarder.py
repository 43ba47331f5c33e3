#!/usr/bin/env python3
"""Forward IP packets between TUN devices in two network namespaces, each held for a fixed delay.

Usage: delay_forwarder.py --delay-ms MS NETNS_A TUN_A NETNS_B TUN_B

NETNS_A and NETNS_B are names under /run/netns (as `ip netns add` makes them). The TUN devices are
created (or attached, when they already exist as persistent devices) inside those namespaces, with
IFF_NO_PI, so every read returns one IP packet. A packet read from one device is written to the
other once MS milliseconds have passed, in the order of arrival. This replaces netem's delay,
which kernels built without sch_netem lack. Rate limits belong to tc (tbf) on the devices.

The program runs until SIGTERM or SIGINT. It prints one line, "ready", on stdout once both devices
are attached, and on exit one line of packet and byte counts per direction on stderr.
"""
import argparse
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
# The largest IP packet. The TUN devices' MTU must not exceed it.
MAX_PACKET = 65535


def open_tun_in_namespace(libc, netns, name):
    """Open /dev/net/tun inside NETNS and attach it to the TUN device NAME there."""
    with open(os.path.join("/run/netns", netns), "rb") as namespace:
        if libc.setns(namespace.fileno(), CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into network namespace {netns} failed: {os.strerror(errno)}")
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


class Direction:
    """One direction of the link: packets read from `source`, held, then written to `target`."""

    def __init__(self, label, source, target):
        self.label = label
        self.source = source
        self.target = target
        self.queue = collections.deque()  # (due time in monotonic seconds, packet)
        self.packets = 0
        self.bytes = 0

    def read_all(self, due):
        while True:
            try:
                packet = os.read(self.source, MAX_PACKET)
            except BlockingIOError:
                return
            if not packet:
                return
            self.queue.append((due, packet))

    def write_due(self, now):
        while self.queue and self.queue[0][0] <= now:
            _, packet = self.queue.popleft()
            try:
                os.write(self.target, packet)
            except OSError:
                # A device that is down or being removed drops the packet, as a wire would.
                continue
            self.packets += 1
            self.bytes += len(packet)


class Stopped(Exception):
    """Raised by the SIGTERM and SIGINT handler to leave the forwarding loop."""


def forward(directions, poller, delay):
    """Move packets until a signal raises Stopped."""
    while True:
        now = time.monotonic()
        heads = [d.queue[0][0] for d in directions.values() if d.queue]
        timeout_ms = None
        if heads:
            timeout_ms = max(0.0, (min(heads) - now) * 1000.0)
        events = poller.poll(timeout_ms)
        now = time.monotonic()
        for fd, _ in events:
            directions[fd].read_all(now + delay)
        for direction in directions.values():
            direction.write_due(now)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay-ms", type=float, required=True, help="one-way delay in milliseconds")
    parser.add_argument("netns_a")
    parser.add_argument("tun_a")
    parser.add_argument("netns_b")
    parser.add_argument("tun_b")
    args = parser.parse_args()
    if args.delay_ms < 0:
        parser.error(f"--delay-ms must be 0 or more, got {args.delay_ms}")
    delay = args.delay_ms / 1000.0

    libc = ctypes.CDLL(None, use_errno=True)
    fd_a = open_tun_in_namespace(libc, args.netns_a, args.tun_a)
    fd_b = open_tun_in_namespace(libc, args.netns_b, args.tun_b)
    directions = {
        fd_a: Direction(f"{args.tun_a}->{args.tun_b}", fd_a, fd_b),
        fd_b: Direction(f"{args.tun_b}->{args.tun_a}", fd_b, fd_a),
    }

    def stop(signum, frame):
        # Raising is what interrupts poll(), which Python otherwise restarts after a signal.
        raise Stopped()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    poller = select.poll()
    for fd in directions:
        poller.register(fd, select.POLLIN)
    print("ready", flush=True)

    try:
        forward(directions, poller, delay)
    except Stopped:
        pass
    for direction in directions.values():
        print(f"{direction.label}: {direction.packets} packets, {direction.bytes} bytes",
              file=sys.stderr)


if __name__ == "__main__":
    main()
