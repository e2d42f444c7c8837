package dev.moonbatch.job;

import dev.moonbatch.io.ContentHash;
import dev.moonbatch.io.DecodedImage;
import dev.moonbatch.io.ImageDecoder;
import dev.moonbatch.io.ImageError;
import dev.moonbatch.io.ImageFiles;
import dev.moonbatch.runtime.ChoiceQuery;
import dev.moonbatch.runtime.ChoiceScores;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The work of one Spark partition: images (each with the prompts no earlier run answered, see
 * {@link ReusePlan}) in, one result row per image and prompt out, streamed batch by batch. An image
 * is read, decoded and preprocessed once, and the model encodes it once for all its prompts. Every failure an image can cause (unreadable,
 * undecodable, too large, a model error) becomes its rows with an {@code error}; nothing escapes
 * to fail the task.
 */
public final class PartitionCaptioner implements FlatMapFunction<Iterator<WorkItem>, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionCaptioner.class);
    /**
     * System property for benchmarks only ({@code bench/throughput.sh}): EOS does not stop generation,
     * so every image costs exactly max_new_tokens steps, as in the raw loop and transformers.js legs.
     */
    static final String BENCH_IGNORE_EOS = "moonbatch.bench.ignoreEos";
    /** The error kind of a row whose image was fine but whose model call failed. */
    static final String INFERENCE_FAILED = "INFERENCE_FAILED";

    private final JobConfig config;
    private final SerializableConfiguration hadoopConf;
    private final ThumbnailStore thumbnails;
    private final RunCounters counters;

    /** @param counters what the executors count for the summary (may be null) */
    PartitionCaptioner(JobConfig config, SerializableConfiguration hadoopConf, RunCounters counters) {
        this.config = config;
        this.hadoopConf = hadoopConf;
        this.counters = counters;
        this.thumbnails = new ThumbnailStore(config.output(), hadoopConf);
    }

    /** A probability as stored: null where no token was generated (NaN). */
    private static Double finite(double p) {
        return Double.isFinite(p) ? p : null;
    }

    /** {@code executor-id@host} ({@code driver@host} in local mode). */
    private static String executorName() {
        String id = org.apache.spark.SparkEnv.get() == null ? "driver" : org.apache.spark.SparkEnv.get().executorId();
        try {
            return id + "@" + java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return id;
        }
    }

    /** Answers are shared between files of equal content and prompt. */
    private static String contentKey(String sha256, String prompt) {
        return sha256 + "\u0000" + (prompt == null ? "" : prompt);
    }

    @Override
    public Iterator<Row> call(Iterator<WorkItem> items) {
        if (!items.hasNext()) {
            return Collections.emptyIterator();
        }
        ExecutorModels.Lease lease = ExecutorModels.acquire(config.model(), config.runtime(),
                config.budget().inferenceSlots());
        if (counters != null) {
            counters.addDevice(executorName(), lease.placement().label());
        }
        TaskContext task = TaskContext.get();
        ExecutorService prefetcher = config.budget().prefetch() ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "moonbatch-prefetch");
            t.setDaemon(true);
            return t;
        }) : null;
        Checkpoints.Writer checkpoints = task == null ? null : new Checkpoints.Writer(config.output(), config.runId(),
                task.partitionId(), task.stageAttemptNumber(), task.attemptNumber(), hadoopConf.value());
        if (task != null) {
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> {
                if (prefetcher != null) {
                    prefetcher.shutdownNow();
                }
                closeQuietly(checkpoints);
            });
        }
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private final ImageDecoder decoder = new ImageDecoder(config.maxPixels());
            private Future<PreparedBatch> upcoming;
            private final Map<String, Answer> answeredHere = new java.util.HashMap<>();
            private boolean released;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && (upcoming != null || items.hasNext())) {
                    PreparedBatch current = upcoming != null ? await(upcoming) : prepare(lease.model(), decoder, take(items));
                    upcoming = null;
                    if (prefetcher != null && items.hasNext()) {
                        // the next batch is read, decoded and preprocessed while this one is inferred
                        List<WorkItem> next = take(items);
                        upcoming = prefetcher.submit(() -> prepare(lease.model(), decoder, next));
                    }
                    List<ResultRow> rows = finish(lease, current, answeredHere);
                    checkpoint(checkpoints, rows);
                    if (counters != null) {
                        counters.addRows(rows);
                    }
                    rows.forEach(r -> ready.add(r.toRow()));
                }
                if (ready.isEmpty() && !released) {
                    released = true;
                    lease.close();
                    if (prefetcher != null) {
                        prefetcher.shutdownNow();
                    }
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    private List<WorkItem> take(Iterator<WorkItem> items) {
        List<WorkItem> batch = new ArrayList<>(config.batchSize());
        while (batch.size() < config.batchSize() && items.hasNext()) {
            batch.add(items.next());
        }
        return batch;
    }

    private static PreparedBatch await(Future<PreparedBatch> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing a batch", e);
        } catch (ExecutionException e) {
            // prepare() turns every image failure into a row; what escapes is a broken deployment
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Saves this batch's successful rows, so a dead driver does not lose them. */
    private static void checkpoint(Checkpoints.Writer checkpoints, List<ResultRow> rows) {
        List<ResultRow> fresh = rows.stream().filter(r -> r.error() == null).toList();
        if (fresh.isEmpty() || checkpoints == null) {
            return;
        }
        try {
            checkpoints.append(fresh);
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not checkpoint a batch: {}", e.toString());
        }
    }

    private static void closeQuietly(Checkpoints.Writer checkpoints) {
        if (checkpoints == null) {
            return;
        }
        try {
            checkpoints.close();
        } catch (IOException e) {
            LOG.warn("could not close the checkpoint file: {}", e.toString());
        }
    }

    /** An image on its way through the batch: read and prepared once, or failed. */
    private static final class Image {
        final WorkItem item;
        String sha256;
        Integer width;
        Integer height;
        PreparedImage prepared;
        String error;
        byte[] bytes;
        /** A product's photos' bytes, in order, until decoded. */
        List<byte[]> photos;
        long bytesRead = -1;
        long ownNanos;

        Image(WorkItem item) {
            this.item = item;
        }

        /** The size the listing saw, else the bytes read (an image named only by a questions file). */
        Long size() {
            return item.size() >= 0 ? Long.valueOf(item.size()) : bytesRead >= 0 ? Long.valueOf(bytesRead) : null;
        }

        Long modifiedMs() {
            return item.modifiedMs() >= 0 ? Long.valueOf(item.modifiedMs()) : null;
        }
    }

    /** One prompt of one image: answered now (or copied from a file of equal content), or failed. */
    private static final class Answer {
        final Image image;
        final String prompt;
        String text;
        List<Region> regions;
        Double confidence;
        Double minTokenProb;
        String finishReason;
        String error;
        boolean computed;

        Answer(Image image, String prompt) {
            this.image = image;
            this.prompt = prompt;
        }
    }

    /** A batch after reading, hashing, decoding and preprocessing: ready for the model. */
    record PreparedBatch(List<Answer> answers) {
    }

    /** Everything before inference; thread-confined to whoever calls it (the task, or its prefetch thread). */
    PreparedBatch prepare(VisionLanguageModel model, ImageDecoder decoder, List<WorkItem> items) {
        List<Answer> answers = new ArrayList<>();
        for (WorkItem item : items) {
            Image image = new Image(item);
            long start = System.nanoTime();
            read(image);
            if (image.error == null) {
                decodeAndPrepare(model, decoder, image);
            }
            image.ownNanos = System.nanoTime() - start;
            item.prompts().forEach(p -> answers.add(new Answer(image, p)));
        }
        return new PreparedBatch(answers);
    }

    private List<ResultRow> finish(ExecutorModels.Lease lease, PreparedBatch batch, Map<String, Answer> answeredHere) {
        return finish(lease.model(), batch, answeredHere, answers -> {
            try {
                lease.infer(model -> {
                    infer(model, answers);
                    return null;
                });
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Inference (through {@code inference}) and the batch's rows. */
    private List<ResultRow> finish(VisionLanguageModel model, PreparedBatch batch, Map<String, Answer> answeredHere,
                                   java.util.function.Consumer<List<Answer>> inference) {
        List<Answer> answers = batch.answers();
        List<Answer> needed = answers.stream()
                .filter(a -> a.text == null && a.image.error == null && a.image.prepared != null).toList();
        // Copies of one photo under several names are answered once: the first of each content and
        // prompt (in this batch, or earlier in this partition) goes to the model, the others copy it.
        List<Answer> toCompute = new ArrayList<>();
        Map<String, List<Answer>> copies = new java.util.LinkedHashMap<>();
        for (Answer a : needed) {
            String key = contentKey(a.image.sha256, a.prompt);
            Answer earlier = answeredHere.get(key);
            if (earlier != null) {
                copyAnswer(earlier, a);
            } else if (copies.containsKey(key)) {
                copies.get(key).add(a);
            } else {
                copies.put(key, new ArrayList<>());
                toCompute.add(a);
            }
        }
        long inferenceNanos = 0;
        if (!toCompute.isEmpty()) {
            long start = System.nanoTime();
            inference.accept(toCompute);
            inferenceNanos = (System.nanoTime() - start) / toCompute.size();
        }
        for (Answer a : toCompute) {
            String key = contentKey(a.image.sha256, a.prompt);
            copies.get(key).forEach(copy -> copyAnswer(a, copy));
            if (a.error == null) {
                answeredHere.put(key, a);
            }
        }
        List<ResultRow> rows = new ArrayList<>(answers.size());
        for (Answer a : answers) {
            a.image.prepared = null; // let the pixels go as soon as the batch is done
            String error = a.image.error != null && a.text == null ? a.image.error : a.error;
            boolean ok = error == null;
            long nanos = a.image.ownNanos / Math.max(1, a.image.item.prompts().size()) + (a.computed ? inferenceNanos : 0);
            rows.add(new ResultRow(a.image.item.path(), a.image.sha256, a.image.size(), a.image.modifiedMs(),
                    a.image.width, a.image.height, model.name(),
                    config.task().name(), a.prompt, config.optionsKey(), ok ? a.text : null,
                    ok && a.regions != null && !a.regions.isEmpty() ? a.regions : null, ok ? a.confidence : null, ok ? a.minTokenProb : null, ok ? a.finishReason : null, error,
                    nanos / 1_000_000, config.runId(), a.image.item.members()));
        }
        return rows;
    }

    /** {@code copy} answered with {@code from}'s text: same content, same prompt, no inference. */
    private void copyAnswer(Answer from, Answer copy) {
        copy.text = from.text;
        copy.regions = from.regions;
        copy.confidence = from.confidence;
        copy.minTokenProb = from.minTokenProb;
        copy.finishReason = from.finishReason;
        copy.error = from.error;
        copy.computed = false;
        if (from.error == null && counters != null) {
            counters.addDeduplicated();
        }
    }

    private void read(Image image) {
        if (image.item.isProduct()) {
            readProduct(image);
            return;
        }
        try {
            byte[] bytes = ImageFiles.readAll(image.item.path(), hadoopConf.value(), config.maxFileBytes());
            image.sha256 = ContentHash.sha256Hex(bytes);
            image.bytes = bytes;
            image.bytesRead = bytes.length;
            if (counters != null) {
                counters.addBytesRead(bytes.length);
            }
        } catch (ImageError e) {
            image.error = e.describe();
        } catch (RuntimeException e) {
            image.error = "READ_FAILED: " + e;
        }
    }

    /** A product's photos, read in order; the first that fails makes the product's error, naming the photo. */
    private void readProduct(Image image) {
        List<String> hashes = new ArrayList<>();
        image.photos = new ArrayList<>();
        long total = 0;
        for (String photo : image.item.members()) {
            try {
                byte[] bytes = ImageFiles.readAll(photo, hadoopConf.value(), config.maxFileBytes());
                hashes.add(ContentHash.sha256Hex(bytes));
                image.photos.add(bytes);
                total += bytes.length;
                if (counters != null) {
                    counters.addBytesRead(bytes.length);
                }
            } catch (ImageError e) {
                image.error = e.kind() + ": " + photo + ": " + e.getMessage();
            } catch (RuntimeException e) {
                image.error = "READ_FAILED: " + photo + ": " + e;
            }
            if (image.error != null) {
                image.photos = null;
                return;
            }
        }
        image.sha256 = Products.contentHash(hashes);
        image.bytesRead = total;
    }

    /** A product's photos decoded in order and prepared for one prompt; a thumbnail of its first photo under its hash. */
    private void decodeAndPrepareProduct(VisionLanguageModel model, ImageDecoder decoder, Image image) {
        List<String> members = image.item.members();
        List<java.awt.image.BufferedImage> decoded = new ArrayList<>();
        String current = members.get(0);
        try {
            for (int i = 0; i < members.size(); i++) {
                current = members.get(i);
                decoded.add(decoder.decode(image.photos.get(i)).image());
                image.photos.set(i, null);
            }
            thumbnails.save(image.sha256, decoded.get(0));
            image.prepared = model.prepare(decoded);
        } catch (ImageError e) {
            image.error = e.kind() + ": " + current + ": " + e.getMessage();
        } catch (RuntimeException | OutOfMemoryError e) {
            image.error = "PREPROCESS_FAILED: " + e;
            LOG.warn("preprocessing product {} failed", image.item.path(), e);
        } finally {
            image.photos = null;
        }
    }

    private void decodeAndPrepare(VisionLanguageModel model, ImageDecoder decoder, Image image) {
        if (image.item.isProduct()) {
            decodeAndPrepareProduct(model, decoder, image);
            return;
        }
        try {
            DecodedImage decoded = decoder.decode(image.bytes);
            image.width = decoded.width();
            image.height = decoded.height();
            thumbnails.save(image.sha256, decoded.image());
            image.prepared = model.prepare(decoded.image());
        } catch (ImageError e) {
            image.error = e.describe();
        } catch (RuntimeException | OutOfMemoryError e) {
            image.error = "PREPROCESS_FAILED: " + e;
            LOG.warn("preprocessing {} failed", image.item.path(), e);
        } finally {
            image.bytes = null;
        }
    }

    /** Generates the answers in one call, each asked {@code task.apply(answer)}. */
    private static void generate(VisionLanguageModel model, List<Answer> answers, GenerationOptions options,
                                 java.util.function.Function<Answer, Task> task) throws Exception {
        List<Generation> out = model.generate(answers.stream().map(a -> new Query(a.image.prepared, task.apply(a))).toList(),
                options);
        for (int i = 0; i < answers.size(); i++) {
            Answer a = answers.get(i);
            Generation g = out.get(i);
            a.text = g.text();
            a.regions = g.regions();
            a.confidence = finite(g.confidence());
            a.minTokenProb = finite(g.minTokenProb());
            a.finishReason = g.finishReason().label();
            a.computed = true;
        }
    }

    /**
     * Attribute answers: closed choices scored in one call (the value is the best choice, its
     * confidence the softmax over the choices), then free-text ones generated, one call per token
     * limit. The model keeps the batch's image features between the calls, so each image is
     * vision-encoded once for all its attributes.
     */
    private void attributes(VisionLanguageModel model, List<Answer> answers, GenerationOptions options) throws Exception {
        Map<String, Attribute> byKey = config.attributesByKey();
        List<Answer> closed = answers.stream().filter(a -> byKey.get(a.prompt).closed()).toList();
        if (!closed.isEmpty()) {
            List<ChoiceScores> scores = model.score(closed.stream().map(a -> new ChoiceQuery(a.image.prepared,
                    new Task(Task.QUERY, byKey.get(a.prompt).question()), byKey.get(a.prompt).choices())).toList());
            for (int i = 0; i < closed.size(); i++) {
                Answer a = closed.get(i);
                ChoiceScores s = scores.get(i);
                a.text = s.value();
                a.confidence = finite(s.confidence());
                a.minTokenProb = null;
                a.finishReason = Attribute.CHOICE;
                a.computed = true;
            }
        }
        Map<Integer, List<Answer>> open = new java.util.TreeMap<>();
        for (Answer a : answers) {
            Attribute attribute = byKey.get(a.prompt);
            if (!attribute.closed()) {
                int limit = attribute.maxNewTokens() != null ? attribute.maxNewTokens() : options.maxNewTokens();
                open.computeIfAbsent(limit, k -> new ArrayList<>()).add(a);
            }
        }
        for (Map.Entry<Integer, List<Answer>> e : open.entrySet()) {
            generate(model, e.getValue(), options.withMaxNewTokens(e.getKey()),
                    a -> new Task(Task.QUERY, byKey.get(a.prompt).question()));
        }
    }

    /** Runs the answers as one batch; if it fails, runs them image by image so that only the culprit fails. */
    private void infer(VisionLanguageModel model, List<Answer> answers) {
        GenerationOptions options = config.search().optionsFor(model, config.maxNewTokens());
        if (Boolean.getBoolean(BENCH_IGNORE_EOS)) {
            options = new GenerationOptions(options.maxNewTokens(), List.of(), options.numBeams(), options.lengthPenalty(),
                    options.earlyStopping(), options.noRepeatNgramSize(), options.repetitionPenalty());
        }
        try {
            if (config.attributes().isEmpty()) {
                generate(model, answers, options, a -> new Task(config.task().name(), a.prompt));
            } else {
                attributes(model, answers, options);
            }
        } catch (Exception | OutOfMemoryError batchFailure) {
            List<Image> images = answers.stream().map(a -> a.image).distinct().toList();
            if (answers.size() == 1) {
                Answer a = answers.get(0);
                a.error = INFERENCE_FAILED + ": " + batchFailure;
                a.computed = true;
                LOG.warn("inference failed for {}", a.image.item.path(), batchFailure);
                return;
            }
            if (images.size() == 1) {
                // one image, several questions: one question the model cannot run (too long for its
                // positions, say) must not take the others' answers with it
                LOG.warn("{} questions about {} failed together ({}); retrying them one by one", answers.size(),
                        images.get(0).item.path(), batchFailure.toString());
                for (Answer a : answers) {
                    infer(model, List.of(a));
                }
                return;
            }
            LOG.warn("a batch of {} images failed ({}); retrying them one by one", images.size(), batchFailure.toString());
            for (Image image : images) {
                infer(model, answers.stream().filter(a -> a.image == image).toList());
            }
        }
    }
}
