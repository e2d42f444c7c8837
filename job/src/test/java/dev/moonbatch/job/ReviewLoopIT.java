package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moonbatch.io.ContentHash;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The morning-review loop end to end, driven through {@code run.sh} as a user drives it: a night's
 * run; the review page in real headless Chromium (zero network requests, every row, weakest first,
 * a hostile file name shown as text, two rows approved and edited, reviewed.csv downloaded);
 * {@code review --apply} of that file and of a spreadsheet-made one; malformed files refused with
 * nothing changed; and a second night with one image changed, one removed and one added, where
 * reviews of unchanged images are kept and the changed one's becomes stale. Parquet is read back
 * in DuckDB, the CSVs with commons-csv.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReviewLoopIT {
    static final String HOSTILE = "a\"<b>&'x.png";
    static final String UNICODE = "商品-ünïcødé.jpg";
    static final String APPROVED_IMAGE = "synthetic_red_mug_white.jpg";
    static final String EDITED_IMAGE = "synthetic_blue_ball_wooden.jpg";
    static final String EDITED_TEXT = "a blue ball on a wooden table, edited by a person";
    static final String REJECTED_IMAGE = "synthetic_green_bottle_white.png";
    static final String ADDED_IMAGE = "added_purple_mug.png";

    @TempDir
    static Path tmp;
    static Path in;
    static Path out;

    @Test
    @Order(1)
    void firstNightWritesConfidenceChangesAndThePage() throws Exception {
        in = tmp.resolve("photos");
        out = tmp.resolve("out");
        Files.createDirectories(in);
        try (Stream<Path> s = Files.list(TestPaths.root().resolve("sample-data/images"))) {
            for (Path p : s.filter(p -> !p.toString().endsWith(".md")).toList()) {
                Files.copy(p, in.resolve(p.getFileName()));
            }
        }
        Files.copy(TestPaths.root().resolve("sample-data/images/coffee.png"), in.resolve(HOSTILE));
        Files.copy(TestPaths.root().resolve("sample-data/images/rocket.jpg"), in.resolve(UNICODE));
        byte[] jpeg = Files.readAllBytes(in.resolve("rocket.jpg"));
        Files.write(in.resolve("truncated.jpg"), java.util.Arrays.copyOf(jpeg, 300));
        int files = fileCount(in);

        // on a terminal (a pseudo-terminal from util-linux's script): the progress bar is redrawn in place
        Run run = runInTerminal("--input", in.toString(), "--output", out.toString(), "--master", "local[2]");
        assertEquals(0, run.code(), run.raw());
        assertTrue(run.raw().contains("\r[") && run.raw().contains(files + "/" + files + " rows (100%)")
                && run.raw().contains("ETA 0m00s"), "a progress bar with ETA: " + run.raw());

        List<Map<String, Object>> rows = duckdb("SELECT * FROM read_parquet('" + parquetGlob() + "') ORDER BY image_path");
        assertEquals(files, rows.size(), "one row per image");
        for (Map<String, Object> r : rows) {
            assertEquals("new", r.get("change"), "first night: every row is new");
            if (r.get("error") == null) {
                double c = ((Number) r.get("confidence")).doubleValue();
                double min = ((Number) r.get("min_token_prob")).doubleValue();
                assertTrue(c > 0 && c <= 1 && min > 0 && min <= c + 1e-9, r.toString());
                assertTrue(List.of("eos", "length").contains(r.get("finish_reason")), r.toString());
                assertEquals(r.get("text"), r.get("final_text"), "no review yet: final text is the model's");
            } else {
                assertNull(r.get("confidence"));
                assertNull(r.get("finish_reason"));
            }
            assertNull(r.get("review_status"));
        }
        assertTrue(rows.stream().anyMatch(r -> r.get("error") != null), "the truncated JPEG is an error row");

        List<CSVRecord> changes = csv(out.resolve("changes.csv"));
        assertEquals(files, changes.size(), "first night: every row is a change");
        assertWeakestFirst(changes);
        assertEquals(OutputTable.columns(), csvHeader(out.resolve("results.csv")));
        assertEquals(OutputTable.columns(), csvHeader(out.resolve("changes.csv")));
        assertTrue(Files.isRegularFile(out.resolve("review/index.html")));
        long decoded = rows.stream().filter(r -> r.get("width") != null).map(r -> r.get("content_sha256")).distinct().count();
        assertEquals(decoded, fileCount(out.resolve("review/thumbs")), "one thumbnail per decoded content");
        try (Stream<Path> s = Files.list(out.resolve("review/thumbs"))) {
            for (Path t : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                BufferedImage thumb = ImageIO.read(t.toFile());
                assertTrue(Math.max(thumb.getWidth(), thumb.getHeight()) <= 256, t.toString());
            }
        }
        JsonNode summary = summary();
        assertEquals(files, summary.path("changes").path("new").asLong());
        assertEquals(0, summary.path("removed").asLong());
    }

    @Test
    @Order(2)
    void thePageInHeadlessChromiumReviewsTwoRowsAndTheirCsvApplies() throws Exception {
        Path downloaded = tmp.resolve("reviewed.csv");
        String approved = path(APPROVED_IMAGE);
        String edited = path(EDITED_IMAGE);
        JsonNode page = BrowserCheck.run(out.resolve("review/index.html"), "--approve", approved,
                "--edit", edited + "=" + EDITED_TEXT, "--search", HOSTILE, "--download", downloaded.toString());
        int rows = duckdb("SELECT image_path FROM read_parquet('" + parquetGlob() + "')").size();
        assertEquals(0, page.path("networkRequests").size(), "no network request: " + page.path("networkRequests"));
        assertEquals(0, page.path("pageErrors").size(), page.path("pageErrors").toString());
        assertEquals(rows, page.path("total").asInt(), "one entry per row");
        assertEquals(rows, page.path("visible").asInt(), "default view = tonight's changes = every row on the first night");
        assertDefaultOrderWeakestFirst(page.path("defaultOrder"));
        assertEquals(2, page.path("charts").size(), "the confidence histogram and errors-by-kind chart: " + page.path("charts"));
        for (JsonNode chart : page.path("charts")) {
            assertTrue(chart.path("bars").asInt() > 0 && chart.path("width").asDouble() > 0, chart.toString());
        }
        String header = page.path("header").toString();
        assertTrue(header.contains("images" + rows) && header.contains("computed" + rows), "the run's counts: " + header);
        JsonNode found = page.path("searchResults");
        assertTrue(found.path("literal").asBoolean(), "the hostile name renders as text: " + found);
        assertFalse(page.path("injected").asBoolean(false), "nothing from a file name ran");

        byte[] bytes = Files.readAllBytes(downloaded);
        assertTrue(bytes.length > 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF,
                "reviewed.csv starts with a UTF-8 byte-order mark");
        List<CSVRecord> reviewed = csv(downloaded);
        assertEquals(List.of("image_path", "content_sha256", "prompt", "review_status", "reviewed_text"), csvHeader(downloaded));
        assertEquals(2, reviewed.size());

        Run apply = runSh("review", "--output", out.toString(), "--apply", downloaded.toString());
        assertEquals(0, apply.code(), apply.output());
        Map<String, Map<String, Object>> byName = rowsByName();
        assertEquals("approved", byName.get(APPROVED_IMAGE).get("review_status"));
        assertEquals(byName.get(APPROVED_IMAGE).get("text"), byName.get(APPROVED_IMAGE).get("final_text"));
        assertEquals("edited", byName.get(EDITED_IMAGE).get("review_status"));
        assertEquals(EDITED_TEXT, byName.get(EDITED_IMAGE).get("final_text"));
        Map<String, CSVRecord> csvByName = csvByName(out.resolve("results.csv"));
        assertEquals("edited", csvByName.get(EDITED_IMAGE).get("review_status"));
        assertEquals(EDITED_TEXT, csvByName.get(EDITED_IMAGE).get("final_text"));

        // a second apply of the same file changes nothing
        byte[] csvBefore = Files.readAllBytes(out.resolve("results.csv"));
        Map<String, String> parquetBefore = folderHashes(out.resolve(CaptionJob.PARQUET));
        Run again = runSh("review", "--output", out.toString(), "--apply", downloaded.toString());
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("0 applied") && again.output().contains("2 already applied"), again.output());
        assertEquals(parquetBefore, folderHashes(out.resolve(CaptionJob.PARQUET)));
        assertTrue(java.util.Arrays.equals(csvBefore, Files.readAllBytes(out.resolve("results.csv"))));
    }

    @Test
    @Order(3)
    void aSpreadsheetMadeFromChangesCsvAppliesAndBadRowsAreCounted() throws Exception {
        // changes.csv with review_status and reviewed_text added, as a spreadsheet would save it
        List<CSVRecord> changes = csv(out.resolve("changes.csv"));
        List<String> header = new ArrayList<>(OutputTable.columns());
        header.add("review_status");
        header.add("reviewed_text");
        StringBuilder sheet = new StringBuilder("\uFEFF" + String.join(",", header.stream().map(ReviewLoopIT::quote).toList()) + "\r\n");
        for (CSVRecord r : changes) {
            List<String> cells = new ArrayList<>(r.toList());
            String name = name(r.get("image_path"));
            cells.add(name.equals(REJECTED_IMAGE) ? "rejected" : "");
            cells.add("");
            sheet.append(String.join(",", cells.stream().map(ReviewLoopIT::quote).toList())).append("\r\n");
        }
        // and three rows that cannot be applied: an unknown image, a changed image, an unknown status
        CSVRecord any = changes.get(changes.size() - 1);
        sheet.append(row(header, "file:/nowhere/else.jpg", any.get("content_sha256"), "approved"));
        sheet.append(row(header, any.get("image_path"), "0".repeat(64), "approved"));
        sheet.append(row(header, any.get("image_path"), any.get("content_sha256"), "maybe"));
        Path file = tmp.resolve("from-spreadsheet.csv");
        Files.writeString(file, sheet.toString(), StandardCharsets.UTF_8);

        Run apply = runSh("review", "--output", out.toString(), "--apply", file.toString());
        assertEquals(0, apply.code(), apply.output());
        assertTrue(apply.output().contains("1 applied"), apply.output());
        assertTrue(apply.output().contains("1 unknown image") && apply.output().contains("1 image changed since review")
                && apply.output().contains("1 unknown status"), apply.output());
        Map<String, Map<String, Object>> byName = rowsByName();
        assertEquals("rejected", byName.get(REJECTED_IMAGE).get("review_status"));
        assertEquals("approved", byName.get(APPROVED_IMAGE).get("review_status"), "earlier reviews stay");
    }

    @Test
    @Order(4)
    void malformedReviewFilesExitTwoWithOneMessageAndChangeNothing() throws Exception {
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("missing-column.csv", "image_path,content_sha256,prompt,review_status\r\nx,y,,approved\r\n"
                .getBytes(StandardCharsets.UTF_8));
        bad.put("latin1.csv", "image_path,content_sha256,prompt,review_status,reviewed_text\r\nx,y,,edited,caf\u00e9\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        bad.put("not-csv.csv", "image_path,content_sha256,prompt,review_status,reviewed_text\r\n\"x,y,,approved,unclosed\r\n"
                .getBytes(StandardCharsets.UTF_8));
        bad.put("binary.csv", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, (byte) 0xff, (byte) 0xfe, 1, 2});
        bad.put("empty.csv", new byte[0]);
        Map<String, String> before = folderHashes(out);
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            Path file = tmp.resolve(e.getKey());
            Files.write(file, e.getValue());
            Run apply = runSh("review", "--output", out.toString(), "--apply", file.toString());
            assertEquals(2, apply.code(), e.getKey() + ": " + apply.output());
            List<String> lines = apply.raw().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), e.getKey() + ": one message: " + apply.output());
            assertTrue(lines.get(0).startsWith("moonbatch: --apply: " + e.getKey()), lines.get(0));
            assertEquals(before, folderHashes(out), e.getKey() + ": the output is byte-identical");
        }
    }

    @Test
    @Order(5)
    void secondNightKeepsReviewsOfUnchangedImagesAndMarksTheChangedOneStale() throws Exception {
        Map<String, Map<String, Object>> night1 = rowsByName();
        // one image changed, one removed, one added
        Path changed = in.resolve(EDITED_IMAGE);
        BufferedImage img = ImageIO.read(changed.toFile());
        for (int x = 0; x < img.getWidth(); x++) {
            img.setRGB(x, 0, 0x000000);
        }
        ImageIO.write(img, "jpg", changed.toFile());
        Files.delete(in.resolve(HOSTILE));
        BufferedImage added = ImageIO.read(TestPaths.root().resolve("sample-data/images/synthetic_purple_mug_grey.png").toFile());
        added.setRGB(0, 0, added.getRGB(0, 0) ^ 0x010101);
        ImageIO.write(added, "png", in.resolve(ADDED_IMAGE).toFile());
        int files = fileCount(in);

        Run run = runSh("--input", in.toString(), "--output", out.toString(), "--master", "local[2]");
        assertEquals(0, run.code(), run.output());
        assertTrue(run.raw().contains("progress: " + files + "/" + files + " rows (100%)") && !run.raw().contains("\r["),
                "not a terminal: plain progress lines with ETA: " + run.raw());
        List<Map<String, Object>> rows = duckdb("SELECT * FROM read_parquet('" + parquetGlob() + "')");
        assertEquals(files, rows.size(), "rows = images");
        assertEquals(files, rows.stream().map(r -> r.get("image_path")).distinct().count(), "0 duplicates");
        Map<String, Map<String, Object>> byName = rowsByName();
        assertFalse(byName.containsKey(HOSTILE), "the removed image's row left the results");

        Map<String, Object> kept = byName.get(APPROVED_IMAGE);
        assertEquals("unchanged", kept.get("change"));
        assertEquals("approved", kept.get("review_status"), "a review of an unchanged image is kept");
        assertEquals(night1.get(APPROVED_IMAGE).get("final_text"), kept.get("final_text"));
        assertEquals("rejected", byName.get(REJECTED_IMAGE).get("review_status"));

        Map<String, Object> stale = byName.get(EDITED_IMAGE);
        assertEquals("changed", stale.get("change"));
        assertEquals("stale", stale.get("review_status"), "the changed image's review is stale");
        assertEquals(stale.get("text"), stale.get("final_text"), "a stale review does not publish its text");
        assertEquals(EDITED_TEXT, stale.get("reviewed_text"), "the old reviewed text stays visible");
        assertEquals("new", byName.get(ADDED_IMAGE).get("change"));

        JsonNode summary = summary();
        assertEquals(1, summary.path("removed").asLong());
        assertEquals(1, summary.path("changes").path("new").asLong());
        assertEquals(1, summary.path("changes").path("changed").asLong());
        Map<String, CSVRecord> changes = csvByName(out.resolve("changes.csv"));
        assertEquals("removed", changes.get(HOSTILE).get("change"), "the removed image is in tonight's changes");
        assertTrue(changes.containsKey(EDITED_IMAGE) && changes.containsKey(ADDED_IMAGE) && changes.containsKey("truncated.jpg"));
        assertFalse(changes.containsKey(APPROVED_IMAGE), "unchanged rows are not tonight's work");
        assertWeakestFirst(csv(out.resolve("changes.csv")));
        List<Map<String, Object>> removed = duckdb("SELECT * FROM read_parquet('" + out.resolve(RunExports.REMOVED) + "/*.parquet')");
        assertEquals(1, removed.size());
        assertEquals(path(HOSTILE), removed.get(0).get("image_path"), "nothing of the removed row is lost");
        assertNotNull(removed.get(0).get("text"));
        assertNotEquals(night1.get(EDITED_IMAGE).get("content_sha256"), stale.get("content_sha256"));
    }

    // ---- helpers ----

    /** @param output what run.sh printed less the JVM's and log4j's warnings; raw: all of it */
    record Run(int code, String output, String raw) {
    }

    static Run runSh(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(TestPaths.root().resolve("run.sh").toString()));
        command.addAll(List.of(args));
        return run(new ProcessBuilder(command), args);
    }

    /** run.sh on a pseudo-terminal (util-linux's script), as a person at a console runs it. */
    static Run runInTerminal(String... args) throws IOException, InterruptedException {
        StringBuilder line = new StringBuilder(quoteShell(TestPaths.root().resolve("run.sh").toString()));
        for (String a : args) {
            line.append(' ').append(quoteShell(a));
        }
        return run(new ProcessBuilder("script", "-qec", line.toString(), "/dev/null"), args);
    }

    static String quoteShell(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    static Run run(ProcessBuilder pb, String... args) throws IOException, InterruptedException {
        pb.redirectErrorStream(true);
        Path log = Files.createTempFile(tmp, "run", ".log");
        Process p = pb.redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("run.sh " + String.join(" ", args) + " timed out: " + Files.readString(log));
        }
        String raw = Files.readString(log, StandardCharsets.UTF_8);
        String output = raw.lines()
                .filter(l -> !l.startsWith("WARNING: ") && !l.contains(" WARN ") && !l.contains(" INFO "))
                .reduce("", (a, b) -> a + b + "\n");
        return new Run(p.exitValue(), output, raw);
    }

    static String path(String name) {
        return "file:" + in.resolve(name).toAbsolutePath();
    }

    static String name(String imagePath) {
        return imagePath.substring(imagePath.lastIndexOf('/') + 1);
    }

    static String parquetGlob() {
        return out.resolve(CaptionJob.PARQUET) + "/*.parquet";
    }

    static JsonNode summary() throws IOException {
        return new ObjectMapper().readTree(out.resolve(CaptionJob.SUMMARY).toFile());
    }

    static int fileCount(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    static List<Map<String, Object>> duckdb(String sql) throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, Object> row = new HashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static Map<String, Map<String, Object>> rowsByName() throws Exception {
        Map<String, Map<String, Object>> byName = new HashMap<>();
        for (Map<String, Object> r : duckdb("SELECT * FROM read_parquet('" + parquetGlob() + "')")) {
            byName.put(name((String) r.get("image_path")), r);
        }
        return byName;
    }

    static List<CSVRecord> csv(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        try (CSVParser parser = CSVParser.parse(text, CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            return new ArrayList<>(parser.getRecords());
        }
    }

    static List<String> csvHeader(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        try (CSVParser parser = CSVParser.parse(text, CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            return parser.getHeaderNames();
        }
    }

    static Map<String, CSVRecord> csvByName(Path file) throws IOException {
        Map<String, CSVRecord> byName = new HashMap<>();
        for (CSVRecord r : csv(file)) {
            byName.put(name(r.get("image_path")), r);
        }
        return byName;
    }

    /** Errors first, then confidence ascending. */
    static void assertWeakestFirst(List<CSVRecord> rows) {
        boolean seenOk = false;
        double last = -1;
        for (CSVRecord r : rows) {
            boolean error = !r.get("error").isEmpty();
            if (error) {
                assertFalse(seenOk, "errors come first: " + r);
                continue;
            }
            seenOk = true;
            if (r.get("confidence").isEmpty()) {
                continue; // removed rows without a confidence sort last
            }
            double c = Double.parseDouble(r.get("confidence"));
            assertTrue(c >= last, "confidence ascending: " + c + " after " + last);
            last = c;
        }
    }

    static void assertDefaultOrderWeakestFirst(JsonNode order) {
        assertTrue(order.size() > 1, "the page shows rows: " + order);
        double last = -1;
        boolean seenOk = false;
        for (JsonNode r : order) {
            if (r.path("error").asBoolean(false)) {
                assertFalse(seenOk, "errors first on the page: " + order);
                continue;
            }
            seenOk = true;
            double c = r.path("confidence").asDouble();
            assertTrue(c >= last - 1e-9, "weakest first on the page: " + order);
            last = c;
        }
    }

    static String quote(String cell) {
        return "\"" + (cell == null ? "" : cell.replace("\"", "\"\"")) + "\"";
    }

    static String row(List<String> header, String path, String sha, String status) {
        List<String> cells = new ArrayList<>();
        for (String h : header) {
            cells.add(switch (h) {
                case "image_path" -> path;
                case "content_sha256" -> sha;
                case "review_status" -> status;
                default -> "";
            });
        }
        return String.join(",", cells.stream().map(ReviewLoopIT::quote).toList()) + "\r\n";
    }

    /** SHA-256 of every file under {@code dir}, by relative path. */
    static Map<String, String> folderHashes(Path dir) throws IOException {
        Map<String, String> hashes = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                hashes.put(dir.relativize(p).toString(), ContentHash.sha256Hex(Files.readAllBytes(p)));
            }
        }
        return hashes;
    }
}
