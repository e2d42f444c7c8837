package dev.moonbatch.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ModelLoaderTest {
    @TempDir
    Path dir;

    @Test
    void weightBytesCountTheChosenGraphsAndTheirExternalData() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"vision-encoder-decoder\"}");
        Files.writeString(dir.resolve("preprocessor_config.json"), "{\"size\":{\"height\":32,\"width\":32}}");
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        Path onnx = Files.createDirectories(dir.resolve("onnx"));
        Files.write(onnx.resolve("encoder_model.onnx"), new byte[10]);
        Files.write(onnx.resolve("decoder_model_merged.onnx"), new byte[20]);
        Files.write(onnx.resolve("decoder_model_merged.onnx_data"), new byte[300]);
        Files.write(onnx.resolve("decoder_model_merged.onnx_data_1"), new byte[4000]);
        Files.write(onnx.resolve("decoder_model_merged_fp16.onnx"), new byte[50000]); // another precision
        Files.write(onnx.resolve("decoder_model.onnx"), new byte[600000]);            // not loaded by the family
        assertEquals(10 + 20 + 300 + 4000, ModelLoader.weightBytes(ModelLoader.validate(dir, RuntimeOptions.defaults()),
                RuntimeOptions.defaults()));
    }
}
