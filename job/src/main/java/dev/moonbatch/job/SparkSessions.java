package dev.moonbatch.job;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one place a SparkSession is built, so the CLI and the tests run Spark the same way. */
public final class SparkSessions {
    private SparkSessions() {
    }

    /**
     * @param master a master URL, or null to keep what spark-submit set (local[*] when nothing did)
     */
    public static SparkSession create(String master) {
        SparkConf conf = new SparkConf().setAppName("moonbatch");
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        if (conf.get("spark.master").startsWith("local")) {
            // A local run binds to loopback and opens no web UI: nothing is exposed, no port clashes.
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        // The job's shuffles are joins of metadata tables (listing, earlier rows) on evenly spread
        // keys (paths, content hashes): re-planning each stage adaptively cost more than it saved
        // (a 1M-image nightly rerun: 102 s with, 88 s without, bench/nightly-scale.sh), and a few
        // partitions per core suffice. Settings given to spark-submit win.
        if (!conf.contains("spark.sql.adaptive.enabled")) {
            spark.conf().set("spark.sql.adaptive.enabled", "false");
        }
        if (!conf.contains("spark.sql.shuffle.partitions")) {
            int cores = spark.sparkContext().defaultParallelism();
            spark.conf().set("spark.sql.shuffle.partitions", String.valueOf(Math.max(1, Math.min(200, 4 * cores))));
        }
        return spark;
    }
}
