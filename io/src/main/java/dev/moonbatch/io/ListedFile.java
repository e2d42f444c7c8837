package dev.moonbatch.io;

/**
 * One file found by {@link ImageLister}: its fully qualified path and what the listing already
 * says about it, so a rerun can tell an unchanged file without opening it.
 *
 * @param size       bytes
 * @param modifiedMs modification time, milliseconds since the epoch
 */
public record ListedFile(String path, long size, long modifiedMs) {
}
