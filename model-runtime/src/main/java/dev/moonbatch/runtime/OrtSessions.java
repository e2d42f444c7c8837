package dev.moonbatch.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.bundle.BundleException;

import java.nio.file.Path;

/** Opens ONNX Runtime sessions by file path (so external {@code .onnx_data} weights load) with our settings. */
public final class OrtSessions {
    private OrtSessions() {
    }

    public static OrtSession open(Path file, RuntimeOptions options) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setInterOpNumThreads(1);
            if (options.intraOpThreads() > 0) {
                so.setIntraOpNumThreads(options.intraOpThreads());
            }
            return env.createSession(file.toString(), so);
        } catch (OrtException e) {
            throw new BundleException("cannot load " + file.getParent().getFileName() + "/" + file.getFileName()
                    + " into ONNX Runtime: " + e.getMessage(), e);
        }
    }
}
