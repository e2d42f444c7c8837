package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spark UI's job list, read through its REST API, tells the run's story in moonbatch's words. */
class SparkJobNamesTest {
    @TempDir
    Path tmp;

    @Test
    void theSparkUiListsTheRunsNamedJobs() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        for (String name : List.of("synthetic_red_mug_white.jpg", "synthetic_blue_ball_wooden.jpg", "coffee.png")) {
            Files.copy(TestPaths.root().resolve("sample-data/images").resolve(name), in.resolve(name));
        }
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        MoonbatchCli cli = new MoonbatchCli(quiet, quiet);
        new CommandLine(cli).parseArgs("--input", in.toString(), "--output", tmp.resolve("out").toString(),
                "--model", TestPaths.demoModel().toString(), "--master", "local[2]");
        SparkSession spark = SparkSession.builder().master("local[2]").appName("moonbatch")
                .config("spark.ui.enabled", "true").config("spark.ui.port", "0")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        List<String> descriptions = new ArrayList<>();
        try {
            new CaptionJob(spark, MoonbatchCli.withThreads(cli.validate(), spark)).run();
            String ui = spark.sparkContext().uiWebUrl().get();
            String app = spark.sparkContext().applicationId();
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(ui + "/api/v1/applications/" + app + "/jobs")).build(),
                    HttpResponse.BodyHandlers.ofString());
            for (JsonNode job : new ObjectMapper().readTree(response.body())) {
                descriptions.add(job.path("description").asText(job.path("name").asText()));
            }
        } finally {
            spark.close();
        }
        assertTrue(descriptions.stream().anyMatch(d -> d.startsWith("moonbatch: caption 3 images (3 rows) with vit-gpt2-tiny")),
                descriptions.toString());
        assertTrue(descriptions.stream().anyMatch(d -> d.equals("moonbatch: write results.csv, changes.csv and the review page")),
                descriptions.toString());
        assertTrue(descriptions.stream().anyMatch(d -> d.startsWith("moonbatch: count this run's rows")), descriptions.toString());
        System.out.println("Spark UI jobs: " + descriptions);
    }
}
