package dev.moonbatch.job;

import dev.moonbatch.io.ContentHash;
import dev.moonbatch.io.DecodedImage;
import dev.moonbatch.io.ImageDecoder;
import dev.moonbatch.io.ImageError;
import dev.moonbatch.io.ImageFiles;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
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

/**
 * The work of one Spark partition: image paths in, one result row per image out, streamed batch
 * by batch. Every failure an image can cause (unreadable, undecodable, too large, a model error)
 * becomes that image's row with an {@code error}; nothing escapes to fail the task.
 */
public final class PartitionCaptioner implements FlatMapFunction<Iterator<String>, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionCaptioner.class);

    private final JobConfig config;
    private final SerializableConfiguration hadoopConf;
    private final Broadcast<Map<String, PriorResult>> prior;

    /**
     * @param prior earlier successful results for this model, task, prompt and options, by content SHA-256
     */
    public PartitionCaptioner(JobConfig config, SerializableConfiguration hadoopConf,
                              Broadcast<Map<String, PriorResult>> prior) {
        this.config = config;
        this.hadoopConf = hadoopConf;
        this.prior = prior;
    }

    @Override
    public Iterator<Row> call(Iterator<String> paths) {
        if (!paths.hasNext()) {
            return Collections.emptyIterator();
        }
        ExecutorModels.Lease lease = ExecutorModels.acquire(config.model(), config.runtime());
        TaskContext task = TaskContext.get();
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private final ImageDecoder decoder = new ImageDecoder(config.maxPixels());
            private int batchIndex;
            private boolean released;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && paths.hasNext()) {
                    List<String> batch = new ArrayList<>(config.batchSize());
                    while (batch.size() < config.batchSize() && paths.hasNext()) {
                        batch.add(paths.next());
                    }
                    List<ResultRow> rows = processBatch(lease.model(), decoder, batch);
                    checkpoint(task, batchIndex++, rows);
                    rows.forEach(r -> ready.add(r.toRow()));
                }
                if (ready.isEmpty() && !released) {
                    released = true;
                    lease.close();
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

    /** Saves this batch's freshly computed successful rows, so a dead driver does not lose them. */
    private void checkpoint(TaskContext task, int batchIndex, List<ResultRow> rows) {
        List<ResultRow> fresh = rows.stream()
                .filter(r -> r.error() == null && config.runId().equals(r.runId())).toList();
        if (fresh.isEmpty() || task == null) {
            return;
        }
        try {
            Checkpoints.save(config.output(), config.runId(), task.partitionId(), batchIndex, task.attemptNumber(),
                    fresh, hadoopConf.value());
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not checkpoint batch {} of partition {}: {}", batchIndex, task.partitionId(), e.toString());
        }
    }

    /** An image on its way through the batch: reused, prepared for the model, or already failed. */
    private static final class Item {
        final String path;
        String sha256;
        Integer width;
        Integer height;
        PreparedImage prepared;
        String error;
        String text;
        String runId;
        long ownNanos;

        Item(String path) {
            this.path = path;
        }
    }

    List<ResultRow> processBatch(VisionLanguageModel model, ImageDecoder decoder, List<String> paths) {
        List<Item> items = new ArrayList<>(paths.size());
        for (String path : paths) {
            items.add(prepare(model, decoder, path));
        }
        List<Item> ready = items.stream().filter(i -> i.prepared != null).toList();
        long inferenceNanos = 0;
        if (!ready.isEmpty()) {
            long start = System.nanoTime();
            infer(model, ready);
            inferenceNanos = (System.nanoTime() - start) / ready.size();
        }
        List<ResultRow> rows = new ArrayList<>(items.size());
        for (Item item : items) {
            long nanos = item.ownNanos + (item.prepared != null ? inferenceNanos : 0);
            String text = item.error == null ? item.text : null;
            rows.add(new ResultRow(item.path, item.sha256, item.width, item.height, model.name(),
                    config.task().name(), config.task().prompt(), config.optionsKey(), text, item.error,
                    nanos / 1_000_000, item.runId != null ? item.runId : config.runId()));
        }
        return rows;
    }

    private Item prepare(VisionLanguageModel model, ImageDecoder decoder, String path) {
        Item item = new Item(path);
        long start = System.nanoTime();
        try {
            byte[] bytes = ImageFiles.readAll(path, hadoopConf.value(), config.maxFileBytes());
            item.sha256 = ContentHash.sha256Hex(bytes);
            PriorResult earlier = prior.value().get(item.sha256);
            if (earlier != null) {
                item.text = earlier.text();
                item.width = earlier.width();
                item.height = earlier.height();
                item.runId = earlier.runId();
                item.ownNanos = System.nanoTime() - start;
                return item;
            }
            DecodedImage image = decoder.decode(bytes);
            item.width = image.width();
            item.height = image.height();
            item.prepared = model.prepare(image.image());
        } catch (ImageError e) {
            item.error = e.describe();
        } catch (RuntimeException | OutOfMemoryError e) {
            item.error = "PREPROCESS_FAILED: " + e;
            LOG.warn("preprocessing {} failed", path, e);
        }
        item.ownNanos = System.nanoTime() - start;
        return item;
    }

    /** Runs the batch; if the batch fails, runs its images one by one so that only the culprit fails. */
    private void infer(VisionLanguageModel model, List<Item> items) {
        GenerationOptions options = model.options(config.maxNewTokens());
        try {
            List<Generation> out = model.generate(items.stream().map(i -> new Query(i.prepared, config.task())).toList(), options);
            for (int i = 0; i < items.size(); i++) {
                items.get(i).text = out.get(i).text();
            }
        } catch (Exception | OutOfMemoryError batchFailure) {
            if (items.size() == 1) {
                items.get(0).error = "INFERENCE_FAILED: " + batchFailure;
                LOG.warn("inference failed for {}", items.get(0).path, batchFailure);
                return;
            }
            LOG.warn("a batch of {} failed ({}); retrying its images one by one", items.size(), batchFailure.toString());
            for (Item item : items) {
                infer(model, List.of(item));
            }
        }
    }
}
