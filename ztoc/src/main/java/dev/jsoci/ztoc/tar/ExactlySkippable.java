package dev.jsoci.ztoc.tar;

/**
 * Marks an {@link java.io.InputStream} whose {@code skip(n)} skips exactly the number of bytes it
 * returns, never past the end of the stream, and returns 0 for a positive {@code n} only at the
 * end. The tar reader skips entry data of such a stream without copying it; it reads the data of
 * other streams into a buffer, because their {@code skip} may skip nothing or pass the end.
 */
public interface ExactlySkippable {}
