package dev.moonbatch.runtime;

import dev.moonbatch.runtime.bundle.Precision;
import dev.moonbatch.runtime.bundle.PrecisionChoice;

import java.io.Serializable;

/**
 * How to load a bundle: which weight variant of each file, on which device, and how many ONNX Runtime
 * threads per session. Part of the per-executor model cache key, so two different option sets never share a model.
 *
 * @param precision       the variant per file; the driver resolves it against the bundle
 *                        ({@link ModelLoader#resolve}) so that executors load exactly the files it chose
 * @param intraOpThreads threads one inference may use; 0 lets ONNX Runtime pick (all cores)
 * @param hoistInvariants compute the decoder's per-image work once per image rather than once per
 *                        token (a checked, cached graph rewrite: {@code runtime.graph.HoistedDecoder})
 * @param device          CPU or a CUDA GPU
 * @param image           the bundle's image preprocessing as changed from the command line (SmolVLM's splitting)
 */
public record RuntimeOptions(PrecisionChoice precision, int intraOpThreads, boolean hoistInvariants, Device device,
                             ImageOptions image) implements Serializable {
    public RuntimeOptions {
        precision = precision == null ? PrecisionChoice.of(Precision.FP32) : precision;
        device = device == null ? Device.CPU : device;
        image = image == null ? ImageOptions.BUNDLE : image;
    }

    public RuntimeOptions(PrecisionChoice precision, int intraOpThreads, boolean hoistInvariants, Device device) {
        this(precision, intraOpThreads, hoistInvariants, device, ImageOptions.BUNDLE);
    }

    public RuntimeOptions(Precision precision, int intraOpThreads, boolean hoistInvariants) {
        this(PrecisionChoice.of(precision), intraOpThreads, hoistInvariants, Device.CPU);
    }

    public RuntimeOptions(Precision precision, int intraOpThreads) {
        this(precision, intraOpThreads, true);
    }

    public RuntimeOptions(PrecisionChoice precision, int intraOpThreads) {
        this(precision, intraOpThreads, true, Device.CPU);
    }

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(Precision.FP32, 0);
    }

    public RuntimeOptions withPrecision(PrecisionChoice choice) {
        return new RuntimeOptions(choice, intraOpThreads, hoistInvariants, device, image);
    }

    public RuntimeOptions withHoistInvariants(boolean on) {
        return new RuntimeOptions(precision, intraOpThreads, on, device, image);
    }

    public RuntimeOptions withIntraOpThreads(int threads) {
        return new RuntimeOptions(precision, threads, hoistInvariants, device, image);
    }

    public RuntimeOptions withDevice(Device newDevice) {
        return new RuntimeOptions(precision, intraOpThreads, hoistInvariants, newDevice, image);
    }

    public RuntimeOptions withImage(ImageOptions newImage) {
        return new RuntimeOptions(precision, intraOpThreads, hoistInvariants, device, newImage);
    }
}
