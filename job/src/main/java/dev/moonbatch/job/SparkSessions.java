package dev.moonbatch.job;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one place a SparkSession is built, so the CLI and the tests run Spark the same way. */
public final class SparkSessions {
    private static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";

    private SparkSessions() {
    }

    /**
     * @param master a master URL, or null to keep what spark-submit set (local[*] when nothing did)
     */
    public static SparkSession create(String master) {
        SparkConf conf = new SparkConf().setAppName("moonbatch").setMaster(effectiveMaster(master));
        if (runsOnThisMachine(conf.get("spark.master"))) {
            // A local run binds to loopback and opens no web UI: nothing is exposed, no port clashes.
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        withDelta(conf);
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /**
     * Delta Lake's SQL extension and catalog, which its MERGE needs ({@code --table-format delta});
     * added beside any extensions spark-submit already set, and harmless for Parquet tables.
     */
    static SparkConf withDelta(SparkConf conf) {
        String extensions = conf.get("spark.sql.extensions", "");
        if (!extensions.contains(DELTA_EXTENSION)) {
            conf.set("spark.sql.extensions", extensions.isBlank() ? DELTA_EXTENSION : extensions + "," + DELTA_EXTENSION);
        }
        conf.setIfMissing("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
        // a results table has few files: one task rebuilds its state (Delta's default of 50 costs ~1 s a query here)
        conf.setIfMissing("spark.databricks.delta.snapshotPartitions", "1");
        return conf;
    }

    /** {@code master}, else what spark-submit set ({@code spark.master}), else {@code local[*]}. */
    static String effectiveMaster(String master) {
        return master != null ? master : new SparkConf().get("spark.master", "local[*]");
    }

    /** Whether the executors run on the driver's machine ({@code local}, {@code local[N]}, {@code local-cluster[…]}). */
    static boolean runsOnThisMachine(String master) {
        return master.startsWith("local");
    }
}
