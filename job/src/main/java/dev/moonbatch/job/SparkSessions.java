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
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
