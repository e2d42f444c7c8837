package dev.moonbatch.runtime.family;

import java.util.List;

/** Public facts about the decoder-only families' bundles. */
public final class DecoderOnlyVlms {
    /** The ONNX components every SmolVLM / moondream2 / BLIP-2 bundle has. */
    public static final List<String> COMPONENTS = DecoderOnlyVlm.COMPONENTS;

    private DecoderOnlyVlms() {
    }
}
