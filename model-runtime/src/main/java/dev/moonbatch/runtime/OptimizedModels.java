package dev.moonbatch.runtime;

import ai.onnxruntime.OrtEnvironment;
import dev.moonbatch.runtime.bundle.CacheFolders;
import dev.moonbatch.runtime.bundle.FileDigests;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.CodedInputStream;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where ONNX Runtime's optimised form of a model file is kept: ONNX Runtime re-optimises every graph each
 * time a session opens it (seconds for a large model, on every executor, every night), so the first CPU
 * session of a file saves its optimised graph and later sessions load that with optimisation off.
 * <p>
 * An entry is {@code <cache>/<key>/model.onnx} (+ {@code model.onnx.data}, its weights), the key a hash of
 * what the optimised graph depends on: the content of the file and its external data, ONNX Runtime's
 * version, the optimisation level and this CPU (its instruction set decides the layouts ONNX Runtime
 * picks, so an entry made on an AVX-512 machine is never loaded on another). The folder is
 * {@code -Dmoonbatch.ort.cache}, else {@code $MOONBATCH_ORT_CACHE}, else {@code ~/.cache/moonbatch/ort-optimized};
 * the value {@code off} turns the cache off. GPU sessions are not cached: ONNX Runtime cannot save
 * graphs assigned to the CUDA provider.
 */
final class OptimizedModels {
    static final String CACHE_PROPERTY = "moonbatch.ort.cache";
    static final String CACHE_ENV = "MOONBATCH_ORT_CACHE";
    static final String MODEL = "model.onnx";
    static final String DATA = "model.onnx.data";
    /** In place of the model: ONNX Runtime's optimised graph of this file does not load back (the reason). */
    static final String UNUSABLE = "unusable.txt";
    /** Bump when what goes into an entry changes. */
    private static final int VERSION = 1;

    private OptimizedModels() {
    }

    /** The cache folder, or empty when the cache is turned off. */
    static Optional<Path> root() {
        Path root = CacheFolders.of(CACHE_PROPERTY, CACHE_ENV, "ort-optimized");
        return "off".equalsIgnoreCase(root.toString()) ? Optional.empty() : Optional.of(root);
    }

    /** The entry folder of {@code file} optimised at {@code level} on this machine. */
    static Path entry(Path root, Path file, String level) throws IOException {
        StringBuilder key = new StringBuilder("v").append(VERSION)
                .append('\0').append(OrtEnvironment.getEnvironment().getVersion())
                .append('\0').append(level)
                .append('\0').append(cpu());
        for (Path f : withExternalData(file)) {
            key.append('\0').append(f.getFileName()).append('=').append(FileDigests.sha256(f));
        }
        return root.resolve(sha256(key.toString()));
    }

    /**
     * Whether the graph has a control-flow node ({@code If}, {@code Loop}, {@code Scan}) at its top
     * level. ONNX Runtime writes such graphs after optimisation in a form it cannot read back (the
     * branches' folded constants get clashing names), and writing a merged decoder costs more than
     * optimising it, so those files are not cached. The file is mapped, not read: weights are skipped.
     */
    static boolean hasControlFlow(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                return true; // protobuf's limit: ONNX Runtime would not save it in one piece either
            }
            CodedInputStream in = CodedInputStream.newInstance(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()));
            in.enableAliasing(true);
            in.setSizeLimit(Integer.MAX_VALUE);
            ModelProto model = ModelProto.parseFrom(in);
            return model.getGraph().getNodeList().stream()
                    .anyMatch(n -> Set.of("If", "Loop", "Scan").contains(n.getOpType()));
        }
    }

    /** The file and the external-data files beside it ({@code X.onnx_data}, {@code X.onnx_data_1}, {@code X.onnx.data}). */
    private static List<Path> withExternalData(Path file) throws IOException {
        String name = file.getFileName().toString();
        Path dir = file.toAbsolutePath().getParent();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> {
                String n = f.getFileName().toString();
                return n.equals(name) || n.startsWith(name + "_data") || n.equals(name + ".data");
            }).sorted().toList();
        }
    }

    /** This CPU's model and instruction-set flags (Linux), else the architecture alone. */
    private static String cpu() {
        Path info = Path.of("/proc/cpuinfo");
        StringBuilder out = new StringBuilder(System.getProperty("os.arch"));
        if (Files.isReadable(info)) {
            try (Stream<String> lines = Files.lines(info, StandardCharsets.ISO_8859_1)) {
                lines.filter(l -> l.startsWith("model name") || l.startsWith("flags") || l.startsWith("Features"))
                        .distinct().forEach(l -> out.append('\n').append(l));
            } catch (IOException | java.io.UncheckedIOException ignored) {
                // the architecture alone
            }
        }
        return out.toString();
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
