package dev.moonbatch.runtime.bundle;

import java.util.Arrays;
import java.util.List;
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

    /** The lower-case name used on the command line and in output rows ({@code fp16}, {@code q4f16}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The variants tried, in order, when a bundle lacks a file in this precision and the user named
     * none for it: the nearest weight size first (the other encoding of as many bits), then wider
     * weights, ending at fp32; q4f16 tries fp16 before fp32 to keep the float16 interface. fp32 has
     * no fallback: it is the reference every export has unless it was trimmed on purpose.
     */
    public List<Precision> fallbacks() {
        return switch (this) {
            case FP32 -> List.of();
            case FP16 -> List.of(FP32);
            case Q4F16 -> List.of(Q4, FP16, FP32);
            case Q4 -> List.of(BNB4, QUANTIZED, FP32);
            case BNB4 -> List.of(Q4, QUANTIZED, FP32);
            case INT8 -> List.of(QUANTIZED, UINT8, FP32);
            case UINT8 -> List.of(QUANTIZED, INT8, FP32);
            case QUANTIZED -> List.of(UINT8, INT8, FP32);
        };
    }

    /** File name of a component in this precision, e.g. {@code encoder_model_fp16.onnx}. */
    public String fileName(String component) {
        return component + suffix + ".onnx";
    }

    public static Precision parse(String value) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(value.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException("--precision: expected one of " + labels() + " but got '" + value + "'");
    }

    /** {@code fp32, fp16, …} for messages. */
    public static String labels() {
        return Arrays.stream(values()).map(Precision::label).collect(Collectors.joining(", "));
    }
}
