#!/usr/bin/env python3
"""Writes layers with unusual trees and inspects them through file descriptors, for the FUSE tests.

Usage:
  odd_trees.py wide TAR COUNT         one directory "wide" with COUNT empty files, in shuffled order
  odd_trees.py deep TAR               a chain of 500 directories, and paths of 4000 and 5100 bytes
  odd_trees.py names TAR              names that are not UTF-8, in ustar, GNU and PAX headers
  odd_trees.py listing DIR            readdir of DIR in the order it returns, one hex name a line
  odd_trees.py describe ROOT          every entry below ROOT: hex path, type, size, sha256 or target
  odd_trees.py open ROOT HEXPATH      errno name of open(ROOT/path), or "ok SHA256" of its content

Paths longer than PATH_MAX are walked and opened relative to directory descriptors, as tar does.
"""
import errno
import hashlib
import io
import os
import random
import stat
import sys
import tarfile


def add_file(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 1700000000
    archive.addfile(info, io.BytesIO(data))


def add_directory(archive, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 1700000000
    archive.addfile(info)


def open_tar(path, fmt):
    # surrogateescape keeps bytes that are not UTF-8 as they are. PAX headers then carry them with
    # hdrcharset=BINARY.
    return tarfile.open(path, "w", format=fmt, encoding="utf-8", errors="surrogateescape")


def decode(raw):
    return raw.decode("utf-8", "surrogateescape")


def write_wide(path, count):
    names = [f"wide/f{i:06d}" for i in range(count)]
    random.Random(1).shuffle(names)
    with open_tar(path, tarfile.GNU_FORMAT) as archive:
        add_directory(archive, "wide")
        for name in names:
            add_file(archive, name, b"")


def write_deep(path):
    with open_tar(path, tarfile.PAX_FORMAT) as archive:
        # 500 levels of "d": a 1000-byte directory path.
        deep = "/".join(["d"] * 500)
        add_file(archive, deep + "/bottom", b"depth 500\n")
        # 20 names of 199 bytes and 19 slashes: 4000 bytes, under PATH_MAX (4096) with the mount
        # point in front.
        long_dir = "/".join([f"{i:02d}" + "l" * 197 for i in range(20)])
        add_file(archive, "long/" + long_dir[: 4000 - len("long/") - len("/f")] + "/f", b"4000\n")
        # 25 names of 200 bytes: over PATH_MAX, so only relative opens reach the file.
        longer_dir = "/".join([f"{i:02d}" + "m" * 198 for i in range(25)])
        add_file(archive, "longer/" + longer_dir + "/f", b"over PATH_MAX\n")


# Names that are not valid UTF-8, with a UTF-8 name as a control. b"a\xff" and b"a\xfe" decode to
# the same text when invalid bytes become U+FFFD.
NAMES = [b"caf\xe9", b"\xff\xfe", b"a\xff", b"a\xfe", b"caf\xc3\xa9", b"dir\x80/inner\xfe"]


def write_names(path):
    # GNU headers carry the bytes as they are; PAX headers carry them in "path" records.
    with open_tar(path, tarfile.GNU_FORMAT) as archive:
        add_directory(archive, "gnu")
        add_directory(archive, decode(b"gnu/dir\x80"))
        for raw in NAMES:
            add_file(archive, decode(b"gnu/" + raw), raw + b" content\n")
        # Longer than 100 bytes, so GNU tar's long-name entry carries it.
        long_name = b"gnu/" + b"\xfd" * 150
        add_file(archive, decode(long_name), b"long gnu name\n")
        link = tarfile.TarInfo(decode(b"gnu/link\xff"))
        link.type = tarfile.SYMTYPE
        link.linkname = decode(b"a\xff")
        archive.addfile(link)
    pax = path + ".pax"
    with open_tar(pax, tarfile.PAX_FORMAT) as archive:
        add_directory(archive, "pax")
        add_directory(archive, decode(b"pax/dir\x80"))
        for raw in NAMES:
            add_file(archive, decode(b"pax/" + raw), raw + b" content\n")
        # Longer than 100 bytes, so only the PAX path record carries it.
        long_name = b"pax/" + b"\xfd" * 150
        add_file(archive, decode(long_name), b"long pax name\n")
    # One layer: the GNU entries, then the PAX ones. Both archives end with two zero blocks, which
    # are cut from the first.
    with open(path, "rb") as f:
        first = f.read()
    with open(pax, "rb") as f:
        second = f.read()
    os.remove(pax)
    end = len(first)
    while end >= 512 and first[end - 512 : end] == bytes(512):
        end -= 512
    with open(path, "wb") as f:
        f.write(first[:end] + second)


def listing(directory):
    # FUSE sends one readdir request per page of entries, each from the offset the last one ended
    # at, so a large directory is read across many offsets.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = []
        with os.scandir(fd) as entries:
            for entry in entries:
                names.append(os.fsencode(entry.name))
    finally:
        os.close(fd)
    for name in names:
        print(name.hex())


def describe(root):
    rows = []

    def visit(dir_fd, prefix):
        with os.scandir(dir_fd) as entries:
            children = sorted(os.fsencode(entry.name) for entry in entries)
        for name in children:
            path = prefix + name
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                rows.append(f"{path.hex()} dir")
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
                try:
                    visit(child, path + b"/")
                finally:
                    os.close(child)
            elif stat.S_ISLNK(st.st_mode):
                rows.append(f"{path.hex()} link {os.readlink(name, dir_fd=dir_fd).hex()}")
            else:
                fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
                try:
                    digest = hashlib.sha256()
                    while chunk := os.read(fd, 1 << 16):
                        digest.update(chunk)
                finally:
                    os.close(fd)
                rows.append(f"{path.hex()} file {st.st_size} {digest.hexdigest()}")

    top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        visit(top, b"")
    finally:
        os.close(top)
    print("\n".join(rows))


def open_path(root, hex_path):
    path = os.fsencode(root) + b"/" + bytes.fromhex(hex_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        print(errno.errorcode[e.errno])
        return
    try:
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 16):
            digest.update(chunk)
    finally:
        os.close(fd)
    print("ok " + digest.hexdigest())


def main():
    command = sys.argv[1]
    if command == "wide":
        write_wide(sys.argv[2], int(sys.argv[3]))
    elif command == "deep":
        write_deep(sys.argv[2])
    elif command == "names":
        write_names(sys.argv[2])
    elif command == "listing":
        listing(sys.argv[2])
    elif command == "describe":
        describe(sys.argv[2])
    elif command == "open":
        open_path(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {command!r}; see the usage at the top of this file")


main()
