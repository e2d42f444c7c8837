package dev.moonbatch.runtime.bundle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelBundleTest {
    @TempDir
    Path dir;

    private void writeMinimalBundle() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"vision-encoder-decoder\",\"decoder\":{\"eos_token_id\":7,\"bos_token_id\":7}}");
        Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\":{\"height\":32,\"width\":48},\"image_mean\":[0.5,0.5,0.5],\"image_std\":0.25}");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Files.createDirectories(dir.resolve("onnx"));
        Files.writeString(dir.resolve("onnx/encoder_model.onnx"), "x");
        Files.writeString(dir.resolve("onnx/encoder_model_fp16.onnx"), "x");
    }

    @Test
    void readsConfigsWithFallbacks() throws Exception {
        writeMinimalBundle();
        ModelBundle bundle = ModelBundle.open(dir);
        assertEquals("vision-encoder-decoder", bundle.modelType());
        assertEquals(48, bundle.preprocessor().width());
        assertEquals(32, bundle.preprocessor().height());
        assertEquals(0.25f, bundle.preprocessor().std()[2]);
        assertEquals(7, bundle.generation().decoderStartTokenId(), "decoder start falls back to bos");
        assertTrue(bundle.generation().isEos(7));
        assertEquals(dir.resolve("onnx/encoder_model_fp16.onnx").toAbsolutePath(), bundle.onnx("encoder_model", Precision.FP16));
    }

    @Test
    void missingOnnxFileIsNamedWithWhatExists() throws Exception {
        writeMinimalBundle();
        ModelBundle bundle = ModelBundle.open(dir);
        BundleException e = assertThrows(BundleException.class, () -> bundle.onnx("decoder_model_merged", Precision.Q4));
        assertTrue(e.getMessage().contains("onnx/decoder_model_merged_q4.onnx"), e.getMessage());
        assertTrue(e.getMessage().contains("encoder_model_fp16.onnx"), e.getMessage());
    }

    @Test
    void missingOrMalformedConfigIsNamed() throws Exception {
        writeMinimalBundle();
        Files.delete(dir.resolve("preprocessor_config.json"));
        BundleException missing = assertThrows(BundleException.class, () -> ModelBundle.open(dir));
        assertTrue(missing.getMessage().contains("preprocessor_config.json"), missing.getMessage());

        Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\": ");
        BundleException malformed = assertThrows(BundleException.class, () -> ModelBundle.open(dir));
        assertTrue(malformed.getMessage().startsWith("malformed preprocessor_config.json"), malformed.getMessage());

        Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\":{\"height\":8,\"width\":8}}");
        Files.delete(dir.resolve("tokenizer.json"));
        BundleException noTokenizer = assertThrows(BundleException.class, () -> ModelBundle.open(dir));
        assertTrue(noTokenizer.getMessage().contains("tokenizer.json"), noTokenizer.getMessage());
    }

    @Test
    void missingFolderNamesTheOption() {
        BundleException e = assertThrows(BundleException.class, () -> ModelBundle.open(dir.resolve("nope")));
        assertTrue(e.getMessage().startsWith("--model:"), e.getMessage());
    }

    @Test
    void unknownPrecisionListsTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp8"));
        assertTrue(e.getMessage().contains("--precision") && e.getMessage().contains("q4f16"), e.getMessage());
    }
}
