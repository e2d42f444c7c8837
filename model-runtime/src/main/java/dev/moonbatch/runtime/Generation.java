package dev.moonbatch.runtime;

/** What the model produced for one image and task: the generated ids (EOS included) and their text. */
public record Generation(long[] tokenIds, String text) {
}
