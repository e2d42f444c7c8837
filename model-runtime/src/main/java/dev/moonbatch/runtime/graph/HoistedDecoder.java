package dev.moonbatch.runtime.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.CodedInputStream;
import dev.moonbatch.runtime.bundle.CacheFolders;
import dev.moonbatch.runtime.bundle.FileDigests;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The hoisted form of a decoder file, made once per model and cached: {@code per_image.onnx},
 * {@code decoder.onnx} and {@code hoist.json} in {@code <cache>/<sha256 of the original file>/}.
 * The cache folder is {@code -Dmoonbatch.hoist.cache}, else {@code $MOONBATCH_HOIST_CACHE}, else
 * {@code ~/.cache/moonbatch/hoisted}. A model that cannot be hoisted (nothing invariant, external
 * weights, a failed self-check) is cached as such too, with the reason, and runs unchanged.
 */
public final class HoistedDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(HoistedDecoder.class);
    public static final String CACHE_PROPERTY = "moonbatch.hoist.cache";
    public static final String CACHE_ENV = "MOONBATCH_HOIST_CACHE";
    static final String META = "hoist.json";
    static final String PER_IMAGE = "per_image.onnx";
    static final String DECODER = "decoder.onnx";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The rewritten pair and its contract. */
    public record Pair(Path perImage, Path decoder, List<String> perImageInputs, List<String> boundary) {
    }

    /** What {@link #prepare} found: the hoisted pair, or why the decoder runs unchanged. */
    public record Outcome(Optional<Pair> hoisted, String reason, boolean fromCache) {
    }

    private HoistedDecoder() {
    }

    public static Path defaultCacheRoot() {
        return CacheFolders.of(CACHE_PROPERTY, CACHE_ENV, "hoisted");
    }

    /** The hoisted pair for this decoder file (made and checked on first use), or empty with one log line saying why. */
    public static Optional<Pair> prepare(Path original) {
        return prepare(original, defaultCacheRoot(), DecoderHoister.Config.defaults(), UnaryOperator.identity()).hoisted();
    }

    /**
     * @param tamper applied to the rewrite before it is checked (tests use it to break a rewrite on purpose)
     */
    static Outcome prepare(Path original, Path cacheRoot, DecoderHoister.Config config,
                           UnaryOperator<DecoderHoister.Rewrite> tamper) {
        String label = original.getParent() == null ? original.toString()
                : original.getParent().getFileName() + "/" + original.getFileName();
        Outcome outcome;
        try {
            String sha = FileDigests.sha256(original);
            Path dir = cacheRoot.resolve(sha);
            Outcome cached = read(dir);
            if (cached != null) {
                outcome = cached;
            } else {
                outcome = make(original, dir, config, tamper);
            }
        } catch (IOException | RuntimeException e) {
            outcome = new Outcome(Optional.empty(), "the rewrite failed: " + e, false);
        }
        if (outcome.hoisted().isPresent()) {
            LOG.info("{}: per-image work hoisted out of the decoder loop ({} boundary tensors{})", label,
                    outcome.hoisted().get().boundary().size(), outcome.fromCache() ? ", cached" : "");
        } else {
            LOG.info("{}: decoder runs unchanged: {}", label, outcome.reason());
        }
        return outcome;
    }

    private static Outcome read(Path dir) throws IOException {
        Path meta = dir.resolve(META);
        if (!Files.isRegularFile(meta)) {
            return null;
        }
        JsonNode m = JSON.readTree(meta.toFile());
        if (m.path("version").asInt() != DecoderHoister.VERSION) {
            return null;
        }
        if (!m.path("hoisted").asBoolean()) {
            return new Outcome(Optional.empty(), m.path("reason").asText() + " (cached)", true);
        }
        Path pre = dir.resolve(PER_IMAGE);
        Path dec = dir.resolve(DECODER);
        if (!Files.isRegularFile(pre) || !Files.isRegularFile(dec)) {
            return null;
        }
        return new Outcome(Optional.of(new Pair(pre, dec, strings(m.path("perImageInputs")), strings(m.path("boundary")))),
                "", true);
    }

    private static Outcome make(Path original, Path dir, DecoderHoister.Config config,
                                UnaryOperator<DecoderHoister.Rewrite> tamper) throws IOException {
        Files.createDirectories(dir.getParent());
        Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp");
        try {
            ObjectNode meta = JSON.createObjectNode();
            meta.put("version", DecoderHoister.VERSION);
            meta.put("original", original.toAbsolutePath().toString());
            String reason = null;
            DecoderHoister.Rewrite rewrite = null;
            if (Files.isRegularFile(original.resolveSibling(original.getFileName() + "_data"))
                    || Files.isRegularFile(original.resolveSibling(original.getFileName() + ".data"))) {
                reason = "weights are stored as external data beside " + original.getFileName()
                        + "; the rewrite reads single-file models only";
            } else {
                try {
                    rewrite = tamper.apply(DecoderHoister.rewrite(parse(original), config));
                } catch (DecoderHoister.NotHoisted e) {
                    reason = e.getMessage();
                }
            }
            if (rewrite != null) {
                write(rewrite.perImage(), tmp.resolve(PER_IMAGE));
                write(rewrite.decoder(), tmp.resolve(DECODER));
                meta.put("removedNodes", rewrite.removedNodes());
                meta.put("perImageNodes", rewrite.perImageNodes());
                meta.set("perImageInputs", JSON.valueToTree(rewrite.perImageInputs()));
                meta.set("boundary", JSON.valueToTree(rewrite.boundary()));
                rewrite = null; // the protobufs can be large: let them go before the check loads sessions
                try {
                    new HoistSelfCheck(config).verify(original, tmp.resolve(PER_IMAGE), tmp.resolve(DECODER));
                } catch (HoistSelfCheck.Failed e) {
                    reason = "the rewrite failed its self-check: " + e.getMessage();
                } catch (Exception e) {
                    reason = "the self-check could not run: " + e.getMessage();
                }
                if (reason == null) {
                    meta.put("hoisted", true);
                    meta.put("selfCheck", "first step, cached step, cached step after row selection: outputs within "
                            + HoistSelfCheck.TOLERANCE + " relative");
                    Files.writeString(tmp.resolve(META), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
                    CacheFolders.publish(tmp, dir);
                    Outcome done = read(dir);
                    return done != null ? new Outcome(done.hoisted(), done.reason(), false)
                            : new Outcome(Optional.empty(), "the cache folder " + dir + " is unreadable", false);
                }
                Files.deleteIfExists(tmp.resolve(PER_IMAGE));
                Files.deleteIfExists(tmp.resolve(DECODER));
            }
            meta.put("hoisted", false);
            meta.put("reason", reason);
            Files.writeString(tmp.resolve(META), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
            CacheFolders.publish(tmp, dir);
            return new Outcome(Optional.empty(), reason, false);
        } finally {
            CacheFolders.deleteTree(tmp);
        }
    }

    /** Parses a single-file ONNX model (protobuf's limit: 2 GB), sharing the weight bytes with the file's buffer. */
    static ModelProto parse(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        in.enableAliasing(true);
        in.setSizeLimit(Integer.MAX_VALUE);
        return ModelProto.parseFrom(in);
    }

    static void write(ModelProto model, Path file) throws IOException {
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            model.writeTo(out);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

}
