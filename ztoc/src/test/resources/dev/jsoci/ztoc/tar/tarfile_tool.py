"""Writes and lists tar archives with Python's tarfile, to cross-check the Java tar indexer.

Usage:
  tarfile_tool.py list ARCHIVE   print one tab-separated line per member, then an END line
  tarfile_tool.py make DIR       write python-ustar.tar, python-gnu.tar and python-pax.tar
  tarfile_tool.py tree DIR       create files that Java cannot create: a name that is not UTF-8,
                                 a fifo and, when run as root, device nodes

Byte strings are printed in hex so that names which are not UTF-8 survive the trip.
"""

import datetime
import io
import os
import sys
import tarfile

ENCODING = "utf-8"
ERRORS = "surrogateescape"
REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


def hexed(text):
    if isinstance(text, bytes):
        return text.hex()
    return text.encode(ENCODING, ERRORS).hex()


def go_mod_time(seconds_text):
    """Render a tar mtime like Go's time.MarshalText in UTC, or "?" outside years 1 to 9999."""
    whole, _, fraction = seconds_text.partition(".")
    seconds = int(whole)
    nanos = int((fraction + "0" * 9)[:9]) if fraction else 0
    if whole.startswith("-"):
        nanos = -nanos
    seconds, nanos = divmod(seconds * 10**9 + nanos, 10**9)
    try:
        moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
            seconds=seconds
        )
    except OverflowError:
        return "?"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) != 19:
        return "?"
    if nanos:
        text += "." + ("%09d" % nanos).rstrip("0")
    return text + "Z"


def list_members(path):
    with tarfile.open(path, "r:", encoding=ENCODING, errors=ERRORS) as archive:
        end = 0
        for member in archive.getmembers():
            pax = member.pax_headers
            if "mtime" in pax:
                mod_time = go_mod_time(pax["mtime"])
            else:
                mod_time = go_mod_time(str(int(member.mtime)))
            records = ",".join(
                hexed(key) + "=" + hexed(value) for key, value in sorted(pax.items())
            )
            fields = [
                hexed(member.name),
                member.type.decode("latin-1").replace("\0", "NUL"),
                str(member.offset),
                str(member.offset_data),
                str(member.size),
                hexed(member.linkname),
                str(member.mode),
                str(member.uid),
                str(member.gid),
                hexed(member.uname),
                hexed(member.gname),
                mod_time,
                str(member.devmajor),
                str(member.devminor),
                records,
            ]
            print("\t".join(fields))
            data = -(-member.size // 512) * 512 if member.type in REGULAR_TYPES else 0
            end = max(end, member.offset_data + data)
        print("END\t" + str(end))


def members():
    """Return (TarInfo, data) pairs covering every entry type the TOC holds."""
    result = []

    def add(name, kind, data=b"", **fields):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.size = len(data)
        info.mtime = 1700000000
        info.mode = 0o644
        info.uid = info.gid = 1000
        info.uname = info.gname = "user"
        for key, value in fields.items():
            setattr(info, key, value)
        result.append((info, data))
        return info

    add("etc", tarfile.DIRTYPE, mode=0o755)
    add("etc/hosts", tarfile.REGTYPE, b"127.0.0.1 localhost\n" * 30)
    add("etc/empty", tarfile.REGTYPE)
    add("etc/link", tarfile.SYMTYPE, linkname="../usr/share/target")
    add("etc/hard", tarfile.LNKTYPE, linkname="etc/hosts")
    add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
    add("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=16, mode=0o660)
    add("run/fifo", tarfile.FIFOTYPE, mode=0o600)
    add("etc/.wh.removed", tarfile.REGTYPE)
    add("opt/.wh..wh..opq", tarfile.REGTYPE)
    add("deep/" + "segment/" * 20 + "file.txt", tarfile.REGTYPE, b"x" * 513)
    add("setuid", tarfile.REGTYPE, b"#!/bin/sh\n", mode=0o4755)
    return result


def extended_members():
    """Return entries that only the GNU and pax formats can hold."""
    result = []

    def add(name, data=b"", **fields):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 1700000000
        for key, value in fields.items():
            setattr(info, key, value)
        result.append((info, data))

    add("long/" + "x" * 300, b"long name")
    add("symlink-long", type=tarfile.SYMTYPE, linkname="t/" * 80 + "target")
    add("big-ids", uid=2**40 + 5, gid=2**33)
    add("old-file", mtime=-1)
    add("caf\xe9-latin1-\udcff", b"name with a byte that is not UTF-8")
    return result


def make(directory):
    for name, form in (
        ("python-ustar.tar", tarfile.USTAR_FORMAT),
        ("python-gnu.tar", tarfile.GNU_FORMAT),
        ("python-pax.tar", tarfile.PAX_FORMAT),
    ):
        entries = members()
        if form != tarfile.USTAR_FORMAT:
            entries += extended_members()
        if form == tarfile.PAX_FORMAT:
            info = tarfile.TarInfo("pax/fraction")
            info.mtime = 1700000000.25
            info.pax_headers = {
                "SCHILY.xattr.user.binary": "\udc80\x00\udcff=\n",
                "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\udcff",
                "comment": "",
            }
            entries.append((info, b"data"))
        with tarfile.open(
            os.path.join(directory, name), "w", format=form, encoding=ENCODING, errors=ERRORS
        ) as archive:
            for info, data in entries:
                archive.addfile(info, io.BytesIO(data))


def tree(directory):
    base = os.fsencode(directory)
    with open(os.path.join(base, b"name-\xff\xfe-not-utf8"), "wb") as stream:
        stream.write(b"bytes")
    os.mkfifo(os.path.join(base, b"fifo"))
    if os.geteuid() == 0:
        os.mknod(os.path.join(base, b"char-dev"), 0o620 | 0o020000, os.makedev(1, 7))
        os.mknod(os.path.join(base, b"block-dev"), 0o640 | 0o060000, os.makedev(7, 3))


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    {"list": list_members, "make": make, "tree": tree}[command](target)
