package dev.moonbatch.runtime;

import java.io.Serializable;
import java.util.Locale;

/**
 * Where ONNX Runtime runs a model: the CPU, or one CUDA GPU ({@code cuda} = {@code cuda:0}).
 * CUDA needs the build made with {@code -Pcuda} (the {@code onnxruntime_gpu} jar) and CUDA 12 /
 * cuDNN 9 libraries on the machine; without them loading fails with one clear message, or falls
 * back to the CPU when {@code cpuFallback} is set.
 *
 * @param cudaIndex the GPU's index, or -1 for the CPU
 * @param cpuFallback run on the CPU (with a warning) when the CUDA execution provider cannot start
 */
public record Device(int cudaIndex, boolean cpuFallback) implements Serializable {
    public static final Device CPU = new Device(-1, false);

    public boolean isGpu() {
        return cudaIndex >= 0;
    }

    /** {@code cpu}, {@code cuda} or {@code cuda:N}, any case. */
    public static Device parse(String value, boolean cpuFallback) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        if (v.equals("cpu")) {
            return CPU;
        }
        if (v.equals("cuda")) {
            return new Device(0, cpuFallback);
        }
        if (v.matches("cuda:\\d{1,3}")) {
            return new Device(Integer.parseInt(v.substring(5)), cpuFallback);
        }
        throw new IllegalArgumentException("--device: expected cpu, cuda or cuda:N but got '" + value + "'");
    }

    @Override
    public String toString() {
        return isGpu() ? "cuda:" + cudaIndex : "cpu";
    }
}
