package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;

/**
 * One name in a directory listing and the node it refers to. A whiteout is listed under the name it
 * hides, as a character device.
 */
public record DirectoryEntry(ByteString name, Node node) {}
