package dev.moonbatch.runtime;

import dev.moonbatch.runtime.bundle.Precision;

/**
 * How to load a bundle: which weight variant and how many ONNX Runtime threads per session.
 * Part of the per-executor model cache key, so two different option sets never share a model.
 *
 * @param intraOpThreads threads one inference may use; 0 lets ONNX Runtime pick (all cores)
 */
public record RuntimeOptions(Precision precision, int intraOpThreads) {
    public static RuntimeOptions defaults() {
        return new RuntimeOptions(Precision.FP32, 0);
    }
}
