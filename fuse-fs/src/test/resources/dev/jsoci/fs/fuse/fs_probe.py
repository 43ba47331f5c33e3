"""Probes a mounted filesystem with libc calls that neither the JDK nor Python's os module expose.

  fs_probe.py seekdir DIR
    Reads DIR with readdir, remembering telldir before each entry, then seeks back to every one
    of those positions in a scattered order and checks that readdir returns the same entry
    again. Also checks rewinddir. Prints "entries N" and "ok", or the first mismatch.

  fs_probe.py xattr PATH NAME
    Prints "size N" for a size query (size 0), then "small ERRNO" for a buffer one byte too
    small, and "value HEX" for a buffer of the right size. Prints "error ERRNO" instead if the
    query fails.

  fs_probe.py types DIR
    Prints "NAME TYPE" for each entry, TYPE being the d_type number readdir reports.

Needs glibc on 64-bit Linux, where struct dirent is d_ino, d_off, d_reclen, d_type, d_name.
"""
import ctypes
import os
import sys


class Dirent(ctypes.Structure):
    _fields_ = [
        ("d_ino", ctypes.c_uint64),
        ("d_off", ctypes.c_int64),
        ("d_reclen", ctypes.c_uint16),
        ("d_type", ctypes.c_uint8),
        ("d_name", ctypes.c_char * 256),
    ]


libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.opendir.restype = ctypes.c_void_p
libc.opendir.argtypes = [ctypes.c_char_p]
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long
libc.telldir.argtypes = [ctypes.c_void_p]
libc.seekdir.restype = None
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.rewinddir.restype = None
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
libc.lgetxattr.restype = ctypes.c_ssize_t
libc.lgetxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]


def open_directory(path):
    directory = libc.opendir(os.fsencode(path))
    if not directory:
        print("opendir failed: %s" % os.strerror(ctypes.get_errno()))
        sys.exit(1)
    return directory


def next_name(directory):
    entry = libc.readdir(directory)
    return entry.contents.d_name if entry else None


def check_seekdir(path):
    directory = open_directory(path)
    positions = []
    names = []
    while True:
        position = libc.telldir(directory)
        name = next_name(directory)
        if name is None:
            break
        positions.append(position)
        names.append(name)
    count = len(names)
    print("entries %d" % count)

    # Every index in a scattered order: 7919 is prime, so i * 7919 mod count covers all.
    for step in range(count):
        index = (step * 7919) % count
        libc.seekdir(directory, positions[index])
        if libc.telldir(directory) != positions[index]:
            print("telldir after seekdir to entry %d: %d, expected %d"
                  % (index, libc.telldir(directory), positions[index]))
            return 1
        name = next_name(directory)
        if name != names[index]:
            print("seekdir to entry %d: got %r, expected %r" % (index, name, names[index]))
            return 1

    libc.rewinddir(directory)
    for index in range(count):
        name = next_name(directory)
        if name != names[index]:
            print("after rewinddir, entry %d: got %r, expected %r" % (index, name, names[index]))
            return 1
    libc.closedir(directory)
    print("ok")
    return 0


def probe_xattr(path, name):
    path_bytes = os.fsencode(path)
    name_bytes = os.fsencode(name)
    size = libc.lgetxattr(path_bytes, name_bytes, None, 0)
    if size < 0:
        print("error %d" % ctypes.get_errno())
        return 0
    print("size %d" % size)
    buffer = ctypes.create_string_buffer(size + 1)
    if size > 0:
        result = libc.lgetxattr(path_bytes, name_bytes, buffer, size - 1)
        print("small %d" % (ctypes.get_errno() if result < 0 else 0))
    length = libc.lgetxattr(path_bytes, name_bytes, buffer, size)
    if length < 0:
        print("error %d" % ctypes.get_errno())
        return 0
    print("value " + buffer.raw[:length].hex())
    return 0


def list_types(path):
    directory = open_directory(path)
    while True:
        entry = libc.readdir(directory)
        if not entry:
            break
        print("%s %d" % (os.fsdecode(entry.contents.d_name), entry.contents.d_type))
    libc.closedir(directory)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "seekdir":
        return check_seekdir(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "xattr":
        return probe_xattr(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "types":
        return list_types(sys.argv[2])
    sys.stderr.write("usage: fs_probe.py seekdir DIR | xattr PATH NAME | types DIR\n")
    return 2


sys.exit(main())
