#!/usr/bin/env python3
"""Writes a single-platform OCI image layout from layer blobs, for benchmarks and demos.

Usage: oci_layout.py [--uncompressed] [--entrypoint JSON] OUT_DIR TAG LAYER [LAYER ...]

Each LAYER is a gzip-compressed tar (bottom layer first), or a plain tar with --uncompressed.
--entrypoint sets the image's Entrypoint to a JSON array of strings; without it, Cmd is /bin/sh. The
config records the diff_ids (sha256 of each decompressed tar) as the OCI image spec requires, with
linux/amd64. A blob is hard-linked to its LAYER file when both are on one filesystem, else copied.
"""
import gzip
import hashlib
import json
import os
import shutil
import sys


def sha256_file(path, opener=open):
    digest = hashlib.sha256()
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_blob(blobs, data):
    hexdigest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, hexdigest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexdigest, "size": len(data)}


def link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def main():
    usage = ("usage: oci_layout.py [--uncompressed] [--entrypoint JSON] OUT_DIR TAG LAYER"
             " [LAYER ...]")
    args = sys.argv[1:]
    uncompressed = False
    entrypoint = None
    while args and args[0].startswith("--"):
        if args[0] == "--uncompressed":
            uncompressed = True
            args = args[1:]
        elif args[0] == "--entrypoint" and len(args) > 1:
            try:
                entrypoint = json.loads(args[1])
            except json.JSONDecodeError:
                entrypoint = None
            if not isinstance(entrypoint, list) or not all(isinstance(a, str) for a in entrypoint):
                sys.exit(f"oci_layout.py: --entrypoint {args[1]} is invalid; give a JSON array of"
                         " strings")
            args = args[2:]
        else:
            sys.exit(usage)
    if len(args) < 3:
        sys.exit(usage)
    out, tag, layers = args[0], args[1], args[2:]
    if uncompressed:
        media_type = "application/vnd.oci.image.layer.v1.tar"
    else:
        media_type = "application/vnd.oci.image.layer.v1.tar+gzip"
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    layer_descriptors = []
    diff_ids = []
    for layer in layers:
        hexdigest = sha256_file(layer)
        target = os.path.join(blobs, hexdigest)
        if not os.path.exists(target):
            link_or_copy(layer, target)
        layer_descriptors.append({
            "mediaType": media_type,
            "digest": "sha256:" + hexdigest,
            "size": os.path.getsize(layer),
        })
        if uncompressed:
            diff_ids.append("sha256:" + hexdigest)
        else:
            diff_ids.append("sha256:" + sha256_file(layer, gzip.open))

    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": entrypoint} if entrypoint else {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_descriptor = write_blob(blobs, json.dumps(config).encode())
    config_descriptor["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": layer_descriptors,
    }
    manifest_descriptor = write_blob(blobs, json.dumps(manifest).encode())
    manifest_descriptor["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest_descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest_descriptor]}, f)


if __name__ == "__main__":
    main()
