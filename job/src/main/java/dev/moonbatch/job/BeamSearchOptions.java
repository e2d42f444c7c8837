package dev.moonbatch.job;

import picocli.CommandLine.Option;

/**
 * The search options the job and {@code ask} share (a picocli mixin), each defaulting to the
 * bundle's {@code generation_config.json}: declared once so both commands offer and document them alike.
 */
final class BeamSearchOptions {
    @Option(names = "--num-beams", description = "Beam search width; 1 = greedy. Default: the bundle's generation_config.json (num_beams), else 1.")
    Integer numBeams;

    @Option(names = "--length-penalty", description = "Beam scores are divided by length^this (default: the bundle's, else 1.0).")
    Double lengthPenalty;

    @Option(names = "--early-stopping", description = "Beam search stopping: true, false or never (default: the bundle's, else false).")
    String earlyStopping;

    @Option(names = "--no-repeat-ngram-size", description = "Never repeat an n-gram of this size; 0 = off (default: the bundle's, else 0).")
    Integer noRepeatNgramSize;

    @Option(names = "--repetition-penalty", description = "Penalty on tokens already generated; 1 = off (default: the bundle's, else 1.0).")
    Double repetitionPenalty;

    /** The overrides, checked: each failure one message naming the option. */
    GenerationOverrides overrides() {
        GenerationOverrides search = new GenerationOverrides(numBeams, lengthPenalty, earlyStopping, noRepeatNgramSize,
                repetitionPenalty);
        search.validate();
        return search;
    }
}
