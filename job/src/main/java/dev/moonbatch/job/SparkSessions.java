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
        SparkConf conf = new SparkConf().setAppName("moonbatch").setMaster(effectiveMaster(master));
        if (runsOnThisMachine(conf.get("spark.master"))) {
            // A local run binds to loopback and opens no web UI: nothing is exposed, no port clashes.
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        return SparkSession.builder().config(conf).getOrCreate();
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
