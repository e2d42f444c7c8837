package dev.moonbatch.job;

import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;

/**
 * The bundle and ONNX Runtime settings {@link ModelOptions#select} chose, checked without loading
 * weights: one choice for the job and {@code moonbatch ask}, so both load the same weights the same way.
 */
record ModelSelection(ModelBundle bundle, RuntimeOptions runtime) {
}
