package dev.moonbatch.runtime.bundle;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The weight variants an Optimum / transformers.js export ships, told apart by a file-name suffix
 * (`decoder_model_merged_fp16.onnx`, `encoder_model_quantized.onnx`, ...).
 */
public enum Precision {
    FP32(""),
    FP16("_fp16"),
    INT8("_int8"),
    UINT8("_uint8"),
    QUANTIZED("_quantized"),
    Q4("_q4"),
    Q4F16("_q4f16"),
    BNB4("_bnb4");

    private final String suffix;

    Precision(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }

    /** File name of a component in this precision, e.g. {@code encoder_model_fp16.onnx}. */
    public String fileName(String component) {
        return component + suffix + ".onnx";
    }

    public static Precision parse(String value) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--precision: expected one of "
                + Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))
                + " but got '" + value + "'");
    }
}
