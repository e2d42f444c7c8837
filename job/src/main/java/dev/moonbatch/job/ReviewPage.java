package dev.moonbatch.job;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code OUTPUT/review/}: the static page (index.html, review.css, review.js, copied from the jar as
 * they are) and {@code rows.js}, the rows as one script the page loads with a script tag, so it
 * opens from disk with no server and no request beyond its own folder. The data is JSON with
 * {@code < > &} and the JavaScript line separators escaped; the page itself shows every string with
 * {@code textContent}, never as markup.
 */
final class ReviewPage implements Closeable {
    static final String DIR = "review";
    static final List<String> ASSETS = List.of("index.html", "review.css", "review.js");
    static final List<String> COLUMNS = List.of("image_path", "content_sha256", "task", "prompt", "text", "confidence",
            "min_token_prob", "finish_reason", "change", "error", "review_status", "reviewed_text", "final_text", "run_id", "thumb",
            "width", "height", "regions");
    private static final String PREFIX = "window.MOONBATCH_REVIEW = ";

    private final FileSystem fs;
    private final Path tmp;
    private final Path target;
    private final OutputStream out;
    private final JsonGenerator json;
    private final Set<String> thumbs;
    private final List<String> columns;

    /** Starts the page in {@code output}: copies the assets, lists the thumbnails, opens rows.js. */
    /**
     * @param everyRow  the page holds every row of the results, else tonight's rows only
     * @param tableRows how many rows the results have (the page says so when it holds fewer)
     */
    ReviewPage(FileSystem fs, Path output, String runId, JsonNode summary, boolean everyRow, long tableRows)
            throws IOException {
        this(fs, output, runId, summary, everyRow, tableRows, List.of());
    }

    /** @param attributeColumns the rows' {@code attr_<name>} columns (attribute runs), shown under each row's text */
    ReviewPage(FileSystem fs, Path output, String runId, JsonNode summary, boolean everyRow, long tableRows,
               List<String> attributeColumns) throws IOException {
        this.columns = new java.util.ArrayList<>(COLUMNS);
        columns.addAll(attributeColumns);
        this.fs = fs;
        Path dir = new Path(output, DIR);
        fs.mkdirs(dir);
        for (String asset : ASSETS) {
            copyAsset(fs, asset, new Path(dir, asset));
        }
        this.thumbs = existingThumbs(fs, new Path(output, ThumbnailStore.DIR));
        this.target = new Path(dir, "rows.js");
        this.tmp = new Path(dir, ".rows.js.tmp");
        this.out = fs.create(tmp, true);
        out.write(PREFIX.getBytes(StandardCharsets.UTF_8));
        JsonFactory factory = new ObjectMapper().getFactory();
        this.json = factory.createGenerator(out, JsonEncoding.UTF8);
        json.setCharacterEscapes(new HtmlSafeEscapes());
        json.writeStartObject();
        json.writeStringField("output", output.toString());
        json.writeStringField("generated", Instant.now().toString());
        json.writeStringField("run_id", runId);
        json.writeStringField("scope", everyRow ? "all" : "tonight");
        json.writeNumberField("table_rows", tableRows);
        json.writeFieldName("summary");
        if (summary == null) {
            json.writeNull();
        } else {
            json.writeTree(summary);
        }
        json.writeArrayFieldStart("columns");
        for (String c : columns) {
            json.writeString(c);
        }
        json.writeEndArray();
        json.writeArrayFieldStart("rows");
    }

    /** Adds one row of the output table (results or removed); {@code changeOverride} replaces its change when set. */
    void add(Row row, String changeOverride) throws IOException {
        json.writeStartArray();
        for (String c : columns) {
            switch (c) {
                case "thumb" -> {
                    String sha = row.getAs("content_sha256");
                    if (sha != null && thumbs.contains(sha + ".jpg")) {
                        json.writeString(ThumbnailStore.relative(sha));
                    } else {
                        json.writeNull();
                    }
                }
                case "change" -> json.writeString(changeOverride != null ? changeOverride : row.getAs(c));
                case "width", "height" -> {
                    Integer v = row.getAs(c);
                    if (v == null) {
                        json.writeNull();
                    } else {
                        json.writeNumber(v);
                    }
                }
                case "regions" -> { // the column as RunExports gives it: JSON text, e.g. [{"label":..,"box":[..]}]
                    String v = row.getAs(c);
                    if (v == null) {
                        json.writeNull();
                    } else {
                        json.writeTree(new ObjectMapper().readTree(v));
                    }
                }
                case "confidence", "min_token_prob" -> {
                    Double v = row.getAs(c);
                    if (v == null) {
                        json.writeNull();
                    } else {
                        json.writeNumber(Math.round(v * 10000) / 10000.0);
                    }
                }
                default -> json.writeString((String) row.getAs(c));
            }
        }
        json.writeEndArray();
    }

    /** Finishes rows.js and renames it into place. */
    @Override
    public void close() throws IOException {
        json.writeEndArray();
        json.writeEndObject();
        json.flush();
        out.write(";\n".getBytes(StandardCharsets.UTF_8));
        json.close();
        out.close();
        HadoopFiles.moveIntoPlace(fs, tmp, target);
    }

    private static void copyAsset(FileSystem fs, String asset, Path target) throws IOException {
        try (InputStream in = ReviewPage.class.getResourceAsStream("/dev/moonbatch/review/" + asset)) {
            if (in == null) {
                throw new IOException("the review page asset " + asset + " is missing from the class path");
            }
            Path tmp = new Path(target.getParent(), "." + asset + ".tmp");
            try (FSDataOutputStream o = fs.create(tmp, true)) {
                in.transferTo(o);
            }
            HadoopFiles.moveIntoPlace(fs, tmp, target);
        }
    }

    private static Set<String> existingThumbs(FileSystem fs, Path dir) throws IOException {
        Set<String> names = new HashSet<>();
        if (fs.exists(dir)) {
            for (FileStatus f : fs.listStatus(dir)) {
                names.add(f.getPath().getName());
            }
        }
        return names;
    }

    /** JSON escapes that are also safe inside HTML and JavaScript source: {@code < > &}, U+2028, U+2029. */
    private static final class HtmlSafeEscapes extends CharacterEscapes {
        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        HtmlSafeEscapes() {
            ascii['<'] = CharacterEscapes.ESCAPE_STANDARD;
            ascii['>'] = CharacterEscapes.ESCAPE_STANDARD;
            ascii['&'] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return ch == 0x2028 ? new SerializedString("\\u2028") : ch == 0x2029 ? new SerializedString("\\u2029") : null;
        }
    }
}
