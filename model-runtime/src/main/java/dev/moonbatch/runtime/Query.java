package dev.moonbatch.runtime;

/**
 * One thing to ask of one image. Several queries may share a {@link PreparedImage} (several
 * questions about one picture): the family encodes that image once for all of them.
 */
public record Query(PreparedImage image, Task task) {
}
