package dev.moonbatch.job;

import dev.moonbatch.io.ContentHash;
import dev.moonbatch.io.ImageFiles;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

/**
 * Which of a run's rows earlier runs already answered, decided on the executors by joining the
 * listing with the earlier rows as Spark tables (the driver never gathers them):
 * <ol>
 * <li>same path, size, modification time and prompt as a row of {@code results.parquet}: carried
 *     without opening the file (skipped with {@code --verify-content}); only the keys meet the
 *     listing, and the row itself is written again as it was ({@link EarlierRows});</li>
 * <li>the rest are read and hashed; same content hash and prompt as any earlier row (a touched
 *     file, a copy of a known photo under a new name): reused without the model;</li>
 * <li>what is left goes to the model, partitioned by content hash, so the copies of one new photo
 *     meet in one partition, where {@link PartitionCaptioner} infers them once.</li>
 * </ol>
 * Files left for the model are read twice (hashed here, decoded there); they are the night's
 * changes, so that is a small share of the bytes, and a first night with no earlier rows skips
 * this plan altogether.
 */
final class ReusePlan {
    /** The run's work: one row per image, with the prompts to ask it (see {@link WorkItem}). */
    static final StructType WORK = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("prompts", DataTypes.createArrayType(DataTypes.StringType))
            .add("size", DataTypes.LongType, false)
            .add("mtime", DataTypes.LongType, false)
            .add("members", DataTypes.createArrayType(DataTypes.StringType, true), true);
    private static final StructType HASHED = WORK.add("sha", DataTypes.StringType, true);

    /** Up to this many rows replaced or files hashed, their earlier rows are found by broadcasting their keys. */
    static final long BROADCAST_KEYS_MAX = 500_000;

    /**
     * @param reused    the rows answered by earlier runs other than those carried from
     *                  {@code results.parquet} by file key (checkpoints, same content): their
     *                  {@code change} is still to be derived
     * @param toCompute the images and prompts left for the model
     * @param hashed    the cached hashes of the files not matched by file key (released after the write)
     * @param notCarried the cached work rows (path, prompt, …) not carried from {@code results.parquet}:
     *                  this run writes them anew, so their earlier rows go; every other earlier row
     *                  of this run's keys is carried as it is (released after the write)
     * @param replacedRows how many: up to {@link #BROADCAST_KEYS_MAX}, their keys are broadcast past
     *                  the earlier rows instead of joining the whole table
     */
    record Plan(Dataset<Row> reused, JavaRDD<WorkItem> toCompute, Dataset<Row> hashed, Dataset<Row> notCarried,
                long replacedRows, String task) {
        void release() {
            hashed.unpersist();
            notCarried.unpersist();
        }

        /**
         * The rows of {@code earlier} that this run's non-carried rows replace, for deriving their
         * {@code change}: found by streaming {@code earlier} past a broadcast of those few keys, so a
         * night of few changes never shuffles the whole earlier table.
         */
        Dataset<Row> earlierCandidates(Dataset<Row> earlier) {
            return earlier.join(keys(), replacedKey(earlier), "left_semi");
        }

        /** {@code earlier} without the rows this run replaces: the carried rows and every other task's, unshuffled. */
        Dataset<Row> notReplaced(Dataset<Row> earlier) {
            return earlier.join(keys(), replacedKey(earlier), "left_anti");
        }

        /** The keys ({@code r_path}, {@code r_prompt}) of the rows this run writes anew. */
        private Dataset<Row> keys() {
            Dataset<Row> replaced = notCarried.select(col("path").as("r_path"), col("prompt").as("r_prompt"));
            return replacedRows <= BROADCAST_KEYS_MAX ? broadcast(replaced) : replaced;
        }

        private Column replacedKey(Dataset<Row> earlier) {
            return earlier.col("task").equalTo(lit(task)).and(earlier.col("image_path").equalTo(col("r_path")))
                    .and(earlier.col("prompt").eqNullSafe(col("r_prompt")));
        }
    }

    private ReusePlan() {
    }

    /** The work as a table, for joins. */
    static Dataset<Row> workTable(SparkSession spark, List<WorkItem> work) {
        List<Row> rows = new ArrayList<>(work.size());
        for (WorkItem w : work) {
            rows.add(RowFactory.create(w.path(), w.prompts().toArray(new String[0]), w.size(), w.modifiedMs(),
                    w.members() == null ? null : w.members().toArray(new String[0])));
        }
        return spark.createDataFrame(rows, WORK);
    }

    /**
     * Earlier successful rows of this task and options, columns prefixed {@code p_}.
     *
     * @param fromCheckpoints whether checkpoints of an interrupted run are among them: without them
     *                        the rows come from {@code results.parquet} alone, which holds one row
     *                        per image, task and prompt, so there is nothing to deduplicate
     */
    record Prior(Dataset<Row> rows, boolean fromCheckpoints) {
    }

    /**
     * Earlier successful rows of this task and options, from {@code results} and checkpoints (either
     * may be null); null when there are none.
     */
    static Prior prior(Dataset<Row> results, Dataset<Row> checkpoints, JobConfig config) {
        if (results == null && checkpoints == null) {
            return null;
        }
        Dataset<Row> tagged = results == null ? checkpoints.withColumn("_from_results", lit(false))
                : checkpoints == null ? results.withColumn("_from_results", lit(true))
                : results.withColumn("_from_results", lit(true)).unionByName(checkpoints.withColumn("_from_results", lit(false)));
        Dataset<Row> mine = tagged.filter(col("error").isNull().and(col("content_sha256").isNotNull())
                        .and(col("task").equalTo(lit(config.task().name())))
                        .and(col("options").equalTo(lit(config.optionsKey()))))
                .select(col("image_path").as("p_path"), col("prompt").as("p_prompt"), col("content_sha256").as("p_sha"),
                        col("file_size").as("p_size"), col("modified_ms").as("p_mtime"), col("width").as("p_width"),
                        col("height").as("p_height"), col("text").as("p_text"), col("regions").as("p_regions"), col("confidence").as("p_confidence"),
                        col("min_token_prob").as("p_min"), col("finish_reason").as("p_finish"), col("run_id").as("p_run"),
                        col(ResultRow.IMAGE_PATHS).as("p_image_paths"),
                        col("_from_results").as("p_from_results"));
        return mine.isEmpty() ? null : new Prior(mine, checkpoints != null);
    }

    static Plan plan(SparkSession spark, Dataset<Row> work, Prior earlierRows, JobConfig config, String model,
                     int partitions, SerializableConfiguration hadoopConf, RunCounters counters) {
        Dataset<Row> prior = earlierRows.rows();
        Dataset<Row> asked = work.select(col("path"), explode(col("prompts")).as("prompt"), col("size"), col("mtime"),
                col("members"));
        Dataset<Row> reused = null;
        Dataset<Row> notCarried = asked;
        if (!config.verifyContent()) {
            // carried: same path, prompt, size and time as a row of results.parquet; only the keys
            // travel through this join, the rows themselves stay where they are (Plan#notReplaced)
            Dataset<Row> fromResults = prior.filter(col("p_from_results")).select("p_path", "p_prompt", "p_size", "p_mtime");
            notCarried = asked.join(fromResults, sameFile(asked, fromResults), "left_anti");
        }
        // cached: it gives both the keys this run replaces and the files still to hash
        notCarried = notCarried.persist(StorageLevel.MEMORY_AND_DISK());
        long replacedRows = notCarried.count();
        Dataset<Row> rest = notCarried;
        if (!config.verifyContent() && earlierRows.fromCheckpoints()) {
            Dataset<Row> checkpointed = prior.filter(not(col("p_from_results")))
                    .dropDuplicates("p_path", "p_prompt", "p_size", "p_mtime");
            Dataset<Row> joined = notCarried.join(checkpointed, sameFile(notCarried, checkpointed), "left_outer");
            reused = rows(joined.filter(col("p_path").isNotNull()), config, model);
            rest = joined.filter(col("p_path").isNull()).select("path", "prompt", "size", "mtime", "members");
        }
        JavaRDD<Row> hashedRows = rest.groupBy("path", "size", "mtime", "members").agg(prompts().as("prompts"))
                .select("path", "prompts", "size", "mtime", "members")
                .javaRDD().mapPartitions(new ContentHasher(hadoopConf, config.maxFileBytes(), counters));
        Dataset<Row> hashed = spark.createDataFrame(hashedRows, HASHED).persist(StorageLevel.MEMORY_AND_DISK());

        boolean fewHashed = hashed.count() <= BROADCAST_KEYS_MAX;
        Dataset<Row> byContent = (fewHashed ? knownContent(prior, hashed) : prior).dropDuplicates("p_sha", "p_prompt");
        Dataset<Row> hashedAsked = hashed.select(col("path"), explode(col("prompts")).as("prompt"), col("size"),
                col("mtime"), col("members"), col("sha"));
        Dataset<Row> matched = hashedAsked.join(byContent, hashedAsked.col("sha").equalTo(byContent.col("p_sha"))
                .and(hashedAsked.col("prompt").eqNullSafe(byContent.col("p_prompt"))), "left_outer");
        Dataset<Row> sameContent = rows(matched.filter(col("p_sha").isNotNull()), config, model);
        reused = reused == null ? sameContent : reused.unionByName(sameContent);

        JavaRDD<WorkItem> toCompute = matched.filter(col("p_sha").isNull())
                .groupBy("path", "size", "mtime", "members", "sha").agg(prompts().as("prompts"))
                .repartition(partitions, col("sha"))
                .javaRDD().map(r -> new WorkItem(r.getString(0), new ArrayList<>(r.<String>getList(5)), r.getLong(1),
                        r.getLong(2), r.isNullAt(3) ? null : new ArrayList<>(r.<String>getList(3))));
        return new Plan(counted(reused, counters), toCompute, hashed, notCarried, replacedRows, config.task().name());
    }

    /** Same path, prompt, size and modification time (a time of 0: a store that keeps none, never the same). */
    private static Column sameFile(Dataset<Row> asked, Dataset<Row> earlier) {
        return asked.col("path").equalTo(earlier.col("p_path"))
                .and(asked.col("prompt").eqNullSafe(earlier.col("p_prompt")))
                .and(asked.col("size").equalTo(earlier.col("p_size")))
                .and(asked.col("mtime").equalTo(earlier.col("p_mtime")))
                .and(asked.col("mtime").gt(0));
    }

    private static Dataset<Row> counted(Dataset<Row> rows, RunCounters counters) {
        return counters == null ? rows : rows.mapPartitions(new CountRows(counters), Encoders.row(ResultRow.SCHEMA));
    }

    /**
     * The earlier rows whose content is among the (few) hashed files': found by streaming the earlier
     * rows past a broadcast of the hashes (a night's changes), so the whole earlier table is neither
     * shuffled nor deduplicated.
     */
    private static Dataset<Row> knownContent(Dataset<Row> prior, Dataset<Row> hashed) {
        Dataset<Row> shas = hashed.filter(col("sha").isNotNull()).select(col("sha").as("k_sha")).distinct();
        return prior.join(broadcast(shas), prior.col("p_sha").equalTo(shas.col("k_sha")), "left_semi");
    }

    /** The prompts of a group, in an array; a null prompt is kept (collect_list alone would drop it). */
    private static Column prompts() {
        return collect_list(struct(col("prompt").as("q"))).getField("q");
    }

    /** Reused rows in {@link ResultRow#SCHEMA}: this run's path, size and time; the earlier row's answer. */
    private static Dataset<Row> rows(Dataset<Row> joined, JobConfig config, String model) {
        Column size = when(col("size").geq(0), col("size")).otherwise(col("p_size"));
        Column mtime = when(col("mtime").geq(0), col("mtime"));
        return joined.select(col("path").as("image_path"), col("p_sha").as("content_sha256"), size.as("file_size"),
                mtime.as("modified_ms"), col("p_width").as("width"), col("p_height").as("height"), lit(model).as("model"),
                lit(config.task().name()).as("task"), col("prompt"), lit(config.optionsKey()).as("options"),
                col("p_text").as("text"), col("p_regions").as("regions"), col("p_confidence").as("confidence"), col("p_min").as("min_token_prob"),
                col("p_finish").as("finish_reason"), lit(null).cast(DataTypes.StringType).as("error"),
                lit(0L).as("latency_ms"), col("p_run").as("run_id"), col("p_image_paths").as(ResultRow.IMAGE_PATHS));
    }

    /** Reads and hashes each image; an unreadable one gets no hash (the model stage reports why). */
    private record ContentHasher(SerializableConfiguration hadoopConf, long maxFileBytes, RunCounters counters)
            implements FlatMapFunction<Iterator<Row>, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> images) {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return images.hasNext();
                }

                @Override
                public Row next() {
                    Row r = images.next();
                    String sha = null;
                    List<String> members = r.isNullAt(4) ? null : r.getList(4);
                    try {
                        List<String> hashes = new ArrayList<>();
                        for (String file : members == null ? List.of(r.getString(0)) : members) {
                            byte[] bytes = ImageFiles.readAll(file, hadoopConf.value(), maxFileBytes);
                            hashes.add(ContentHash.sha256Hex(bytes));
                            if (counters != null) {
                                counters.addBytesRead(bytes.length);
                            }
                        }
                        sha = members == null ? hashes.get(0) : Products.contentHash(hashes);
                    } catch (RuntimeException | dev.moonbatch.io.ImageError e) {
                        // left for PartitionCaptioner, which reads it again and writes the error row
                    }
                    return RowFactory.create(r.getString(0), r.<String>getList(1).toArray(new String[0]), r.getLong(2), r.getLong(3),
                            members == null ? null : members.toArray(new String[0]), sha);
                }
            };
        }
    }

    /** Counts reused rows as they pass, for the progress line. */
    private record CountRows(RunCounters counters) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    counters.rowsDone().add(1);
                    return rows.next();
                }
            };
        }
    }
}
