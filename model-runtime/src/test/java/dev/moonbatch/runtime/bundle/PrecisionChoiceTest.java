package dev.moonbatch.runtime.bundle;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.RuntimeOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --precision}: parsing, the fallback order, resolution against real bundles, and the recorded key. */
class PrecisionChoiceTest {
    private static Path bundle(String name) {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize()
                .resolve("sample-data/models").resolve(name);
    }

    @Test
    void oneValueIsEveryFileWithFallback() {
        PrecisionChoice c = PrecisionChoice.parse("FP16");
        assertEquals(Precision.FP16, c.others());
        assertEquals(Map.of(), c.files());
        assertEquals(List.of(Precision.FP16, Precision.FP32), c.candidates("decoder_model_merged"));
    }

    @Test
    void perFileEntriesTakeAliasesAndADefault() {
        PrecisionChoice c = PrecisionChoice.parse(" q4 , vision=fp16,decoder_model_merged=q4f16, embed = fp32");
        assertEquals(Precision.Q4, c.others());
        assertEquals(Map.of("vision_encoder", Precision.FP16, "decoder_model_merged", Precision.Q4F16,
                "embed_tokens", Precision.FP32), c.files());
        assertEquals(List.of(Precision.FP16), c.candidates("vision_encoder"), "a named file is exact");
        assertEquals(List.of(Precision.Q4, Precision.BNB4, Precision.QUANTIZED, Precision.FP32), c.candidates("encoder_model"));
        assertEquals(Precision.FP32, PrecisionChoice.parse("decoder=q4").of("vision_encoder"), "unnamed files default to fp32");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "fp8", "fp16,q4", "vision=fp16,vision_encoder=fp32", "Vision Encoder=fp16", "decoder=",
            "decoder=int4", "fp16,,decoder=q4"})
    void badValuesFailWithOneMessageNamingTheOption(String value) {
        var e = assertThrows(IllegalArgumentException.class, () -> PrecisionChoice.parse(value));
        assertTrue(e.getMessage().startsWith("--precision: expected "), e.getMessage());
        assertTrue(e.getMessage().contains("FILE=PRECISION") && e.getMessage().contains("fp32, fp16"), e.getMessage());
        assertTrue(e.getMessage().endsWith("but got '" + value + "'"), e.getMessage());
    }

    @Test
    void everyFallbackChainEndsAtFp32AndNeverRepeats() {
        for (Precision p : Precision.values()) {
            List<Precision> chain = p.fallbacks();
            if (p != Precision.FP32) {
                assertEquals(Precision.FP32, chain.get(chain.size() - 1), p + ": " + chain);
            }
            assertEquals(chain.size(), chain.stream().distinct().count(), p + ": " + chain);
            assertTrue(!chain.contains(p), p + ": " + chain);
        }
        assertEquals(List.of(Precision.Q4, Precision.FP16, Precision.FP32), Precision.Q4F16.fallbacks());
    }

    @Test
    void aMissingVariantFallsBackToTheNearestWithAWarningNamingTheFile() {
        ModelBundle smol = ModelBundle.open(bundle("smolvlm-tiny")); // fp32 and _fp16 files only
        List<String> warnings = new ArrayList<>();
        PrecisionChoice resolved = ModelLoader.resolve(smol, new RuntimeOptions(Precision.Q4F16, 1), warnings::add).precision();
        assertEquals(Map.of("vision_encoder", Precision.FP16, "embed_tokens", Precision.FP16,
                "decoder_model_merged", Precision.FP16), resolved.files(), "q4f16 → q4 (absent) → fp16");
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("no onnx/vision_encoder_q4f16.onnx") && warnings.get(0).contains("onnx/vision_encoder_fp16.onnx"),
                warnings.get(0));
        assertEquals("fp16", resolved.key(), "every file ended in fp16: the key earlier fp16 runs wrote");

        warnings.clear();
        ModelBundle florence = ModelBundle.open(bundle("florence2-tiny")); // fp32 only
        resolved = ModelLoader.resolve(florence, new RuntimeOptions(PrecisionChoice.parse("fp16"), 1), warnings::add).precision();
        assertEquals(4, warnings.size(), warnings.toString());
        assertEquals("fp32", resolved.key());
    }

    @Test
    void aNamedFileIsExact() {
        ModelBundle florence = ModelBundle.open(bundle("florence2-tiny"));
        var missing = assertThrows(BundleException.class, () -> ModelLoader.validate(florence.dir(),
                new RuntimeOptions(PrecisionChoice.parse("decoder=fp16"), 1)));
        assertTrue(missing.getMessage().contains("lacks onnx/decoder_model_merged_fp16.onnx"), missing.getMessage());
        var notAFile = assertThrows(IllegalArgumentException.class, () -> ModelLoader.validate(bundle("smolvlm-tiny"),
                new RuntimeOptions(PrecisionChoice.parse("encoder=fp16"), 1)));
        assertEquals("--precision: this model has no file 'encoder_model'; expected one of vision_encoder, embed_tokens, "
                + "decoder_model_merged", notAFile.getMessage());
    }

    @Test
    void theKeyNamesEachFileWhenTheyDiffer() {
        ModelBundle smol = ModelBundle.open(bundle("smolvlm-tiny"));
        List<String> warnings = new ArrayList<>();
        PrecisionChoice resolved = ModelLoader.resolve(smol, new RuntimeOptions(PrecisionChoice.parse("fp16,embed=fp32"), 1),
                warnings::add).precision();
        assertEquals(List.of(), warnings);
        assertEquals("decoder_model_merged=fp16,embed_tokens=fp32,vision_encoder=fp16", resolved.key());
        PrecisionChoice spelledOut = ModelLoader.resolve(smol, new RuntimeOptions(
                PrecisionChoice.parse("vision_encoder=fp16,decoder=fp16"), 1), warnings::add).precision();
        assertEquals(resolved.key(), spelledOut.key(), "the key depends on the files loaded, not on how they were asked for");
    }
}
