#!/usr/bin/env python3
"""Compute the physical limit of a lazy cold start from an image's zTOCs and its start-up set.

Usage: cold_start_limit.py JSOCI INDEX_INFO_JSON BLOB_DIR STARTUP_LIST RATE_BITS RTT_MS

JSOCI is bin/jsoci, INDEX_INFO_JSON the output of `jsoci index info` for the image, BLOB_DIR the
registry's blob store (docker/registry/v2/blobs), STARTUP_LIST the absolute paths the start reads,
RATE_BITS the link rate in bits per second and RTT_MS its round-trip time.

The limit is the time to move, at the link rate, the compressed bytes of every span that contains a
byte of a start-up file, plus the whole of every layer without a zTOC (those are downloaded), plus
one round trip per layer. It leaves out everything else a start needs: the manifests, the zTOCs,
the container runtime and the reads themselves. Prints one JSON object.
"""
import json
import os
import subprocess
import sys


def blob_path(blob_dir, digest):
    algorithm, hexdigest = digest.split(":", 1)
    return os.path.join(blob_dir, algorithm, hexdigest[:2], hexdigest, "data")


def ztoc_info(jsoci, path):
    output = subprocess.run([jsoci, "ztoc", "info", path], check=True, capture_output=True).stdout
    return json.loads(output)


def touched_spans(info, startup):
    """Return {span id: compressed bytes} for the spans that contain bytes of the start-up files."""
    checkpoints = info["checkpoints"]
    starts = [c["out"] for c in checkpoints]
    compressed_end = info["compressed_archive_size"]

    def compressed_bytes(span):
        end = checkpoints[span + 1]["in"] if span + 1 < len(checkpoints) else compressed_end
        # A checkpoint that starts inside a byte (bits > 0) needs that byte as well.
        begin = checkpoints[span]["in"] - (1 if checkpoints[span]["bits"] else 0)
        return end - begin

    def span_of(offset):
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low

    spans = {}
    for entry in info["files"]:
        name = "/" + entry["name"].lstrip("./").lstrip("/")
        if name not in startup or entry["type"] != "reg" or entry["size"] == 0:
            continue
        first = span_of(entry["offset"])
        last = span_of(entry["offset"] + entry["size"] - 1)
        for span in range(first, last + 1):
            spans[span] = compressed_bytes(span)
    return spans


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: cold_start_limit.py JSOCI INDEX_INFO_JSON BLOB_DIR STARTUP_LIST RATE_BITS RTT_MS")
    jsoci, index_path, blob_dir, startup_path = sys.argv[1:5]
    rate_bits, rtt_ms = float(sys.argv[5]), float(sys.argv[6])
    with open(index_path) as f:
        index = json.load(f)
    with open(startup_path) as f:
        startup = {line.strip() for line in f if line.strip()}

    layers = []
    for layer in index["layers"]:
        if layer.get("ztoc") is None:
            layers.append({"digest": layer["digest"], "ztoc": None, "bytes": layer["size"]})
            continue
        info = ztoc_info(jsoci, blob_path(blob_dir, layer["ztoc"]["digest"]))
        spans = touched_spans(info, startup)
        layers.append({
            "digest": layer["digest"],
            "ztoc": layer["ztoc"]["digest"],
            "ztoc_bytes": layer["ztoc"]["size"],
            "spans": len(info["checkpoints"]),
            "spans_touched": len(spans),
            "bytes": sum(spans.values()),
        })

    total = sum(layer["bytes"] for layer in layers)
    seconds = total * 8 / rate_bits + len(layers) * rtt_ms / 1000
    print(json.dumps({
        "layers": layers,
        "bytes": total,
        "ztoc_bytes": sum(layer.get("ztoc_bytes", 0) for layer in layers),
        "round_trips": len(layers),
        "seconds": round(seconds, 3),
    }, indent=1))


if __name__ == "__main__":
    main()
