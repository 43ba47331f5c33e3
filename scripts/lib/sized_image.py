#!/usr/bin/env python3
"""Writes the gzip layers of a sample image of a given size whose start reads a chosen fraction.

Usage: sized_image.py OUT_DIR SIZE_MB LAYERS STARTUP_FRACTION [SEED]

OUT_DIR receives layer-0.tar.gz (busybox as /bin/sh and the start script /app/start.sh, a few MiB),
layer-1.tar.gz .. layer-LAYERS.tar.gz (SIZE_MB MiB of file data in total, split evenly), and
expected-output: the one line that /app/start.sh prints once it has read its start-up set.

File contents mix pseudo-random bytes (10 %) with text of Zipf-distributed words, so that gzip at
level 6 keeps about 40 % of the bytes (206 MiB for SIZE_MB 512). File sizes
are log-uniform: 95 % between 256 B and 64 KiB, 5 % between 64 KiB and 8 MiB, about 100 KiB on
average. The start-up set is one contiguous run of files in every data layer (as an application
reads one package directory), about STARTUP_FRACTION of each layer's bytes. The start script reads
every file of the set through one pipe and prints their count, total size and MD5 digest.

Layers are compressed by pigz (gzip when pigz is missing) and, like the file contents, depend only
on the arguments and SEED, with fixed modification times.
"""
import hashlib
import io
import math
import os
import random
import shutil
import subprocess
import sys
import tarfile

BUSYBOX = "/bin/busybox"
MTIME = 1700000000
SMALL_FILE_SIZES = (256, 64 << 10)
LARGE_FILE_SIZES = (64 << 10, 8 << 20)
LARGE_FILE_SHARE = 0.05
RANDOM_SEGMENT_SHARE = 0.10
SEGMENT_SIZES = (256, 16 << 10)
FILES_PER_DIRECTORY = 64

START_SCRIPT = """\
#!/bin/sh
# Reads the start-up set listed in /app/startup.list, then prints one line about it.
files=$(busybox wc -l < /app/startup.list)
bytes=$(busybox xargs busybox cat < /app/startup.list | busybox wc -c)
digest=$(busybox xargs busybox cat < /app/startup.list | busybox md5sum | busybox cut -d' ' -f1)
echo "started: read $files files, $bytes bytes, md5 $digest"
"""


class Content:
    """Generates file contents: pseudo-random segments among slices of a pool of word text."""

    def __init__(self, rng):
        self.rng = rng
        letters = "etaoinshrdlcumwfgypbvkjxqz"
        letter_weights = [1 / (rank + 1) for rank in range(len(letters))]
        vocabulary = [
            "".join(rng.choices(letters, weights=letter_weights, k=rng.randint(2, 9)))
            for _ in range(3000)
        ]
        word_weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
        # A 6 MiB pool is far larger than deflate's 32 KiB window, so slices at random offsets
        # compress like fresh text rather than like repeats.
        self.pool = " ".join(rng.choices(vocabulary, weights=word_weights, k=1_000_000)).encode()

    def generate(self, size):
        data = bytearray()
        while len(data) < size:
            segment = self.rng.randint(*SEGMENT_SIZES)
            if self.rng.random() < RANDOM_SEGMENT_SHARE:
                data += self.rng.randbytes(segment)
            else:
                offset = self.rng.randrange(len(self.pool) - segment)
                data += self.pool[offset:offset + segment]
        return bytes(data[:size])


def log_uniform(rng, low, high):
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def file_sizes(rng, total):
    """Returns file sizes that add up to exactly `total` bytes."""
    sizes = []
    remaining = total
    while remaining > 0:
        bounds = LARGE_FILE_SIZES if rng.random() < LARGE_FILE_SHARE else SMALL_FILE_SIZES
        size = min(log_uniform(rng, *bounds), remaining)
        sizes.append(size)
        remaining -= size
    return sizes


def startup_run(rng, sizes, fraction):
    """Returns the range of file indexes that form the layer's start-up set."""
    target = fraction * sum(sizes)
    start = rng.randrange(len(sizes))
    end = start
    read = 0
    while end < len(sizes) and read < target:
        read += sizes[end]
        end += 1
    # Near the end of the layer, extend the run backwards to reach the target.
    while start > 0 and read < target:
        start -= 1
        read += sizes[start]
    return range(start, end)


def compressor(path):
    program = ["pigz", "-6", "-n"] if shutil.which("pigz") else ["gzip", "-6", "-n"]
    out = open(path, "wb")
    return subprocess.Popen(program, stdin=subprocess.PIPE, stdout=out), out


def add_file(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = MTIME
    tar.addfile(info, io.BytesIO(data))


def add_directory(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = MTIME
    tar.addfile(info)


def write_layer(path, fill):
    process, out = compressor(path)
    try:
        with tarfile.open(fileobj=process.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            fill(tar)
        process.stdin.close()
        if process.wait() != 0:
            sys.exit(f"sized_image.py: compressing {path} failed with status {process.returncode}")
    finally:
        out.close()


def write_data_layer(path, layer, sizes, run, content, startup):
    """Writes one data layer and adds the names of its start-up files to `startup`."""

    def fill(tar):
        add_directory(tar, "data")
        add_directory(tar, f"data/{layer}")
        for index, size in enumerate(sizes):
            directory = f"data/{layer}/{index // FILES_PER_DIRECTORY:04d}"
            if index % FILES_PER_DIRECTORY == 0:
                add_directory(tar, directory)
            name = f"{directory}/{index:06d}.dat"
            data = content.generate(size)
            add_file(tar, name, data)
            if index in run:
                startup.add(name, data)

    write_layer(path, fill)


class StartupSet:
    """The start-up files in the order start.sh reads them, with their MD5 digest."""

    def __init__(self):
        self.names = []
        self.bytes = 0
        self.digest = hashlib.md5()

    def add(self, name, data):
        self.names.append(name)
        self.bytes += len(data)
        self.digest.update(data)


def write_base_layer(path, startup_names):
    def fill(tar):
        for directory in ("bin", "app", "dev", "etc", "proc", "sys", "tmp"):
            add_directory(tar, directory)
        with open(BUSYBOX, "rb") as f:
            add_file(tar, "bin/busybox", f.read(), 0o755)
        link = tarfile.TarInfo("bin/sh")
        link.type = tarfile.SYMTYPE
        link.linkname = "busybox"
        link.mode = 0o777
        link.mtime = MTIME
        tar.addfile(link)
        add_file(tar, "app/start.sh", START_SCRIPT.encode(), 0o755)
        listing = "".join(f"/{name}\n" for name in startup_names)
        add_file(tar, "app/startup.list", listing.encode())

    write_layer(path, fill)


def main():
    args = sys.argv[1:]
    if len(args) not in (4, 5):
        sys.exit("usage: sized_image.py OUT_DIR SIZE_MB LAYERS STARTUP_FRACTION [SEED]")
    out = args[0]
    try:
        size_mb, layers, fraction = int(args[1]), int(args[2]), float(args[3])
        seed = int(args[4]) if len(args) == 5 else 1
    except ValueError as e:
        sys.exit(f"sized_image.py: invalid number: {e}")
    if size_mb < 1:
        sys.exit(f"sized_image.py: SIZE_MB {size_mb} is invalid; give 1 or more")
    if layers < 1 or layers > size_mb:
        sys.exit(f"sized_image.py: LAYERS {layers} is invalid; give 1 to SIZE_MB ({size_mb})")
    if not 0 < fraction <= 1:
        sys.exit(f"sized_image.py: STARTUP_FRACTION {fraction} is invalid; give 0 < F <= 1")
    if not os.access(BUSYBOX, os.X_OK):
        sys.exit(f"sized_image.py: {BUSYBOX} is missing; install busybox-static")
    os.makedirs(out, exist_ok=True)

    rng = random.Random(seed)
    content = Content(rng)
    total = size_mb << 20
    startup = StartupSet()
    for layer in range(1, layers + 1):
        layer_bytes = total // layers + (total % layers if layer == layers else 0)
        sizes = file_sizes(rng, layer_bytes)
        run = startup_run(rng, sizes, fraction)
        write_data_layer(
            os.path.join(out, f"layer-{layer}.tar.gz"), layer, sizes, run, content, startup)
    write_base_layer(os.path.join(out, "layer-0.tar.gz"), startup.names)

    with open(os.path.join(out, "expected-output"), "w") as f:
        f.write(
            f"started: read {len(startup.names)} files, {startup.bytes} bytes,"
            f" md5 {startup.digest.hexdigest()}\n")


if __name__ == "__main__":
    main()
