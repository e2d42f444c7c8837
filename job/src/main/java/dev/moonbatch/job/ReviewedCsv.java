package dev.moonbatch.job;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A {@code reviewed.csv} as the review page downloads it, or as a spreadsheet saves it after two
 * columns were added to {@code changes.csv}: columns are found by name (others are ignored), a
 * byte-order mark is fine, and the {@code '} that {@code changes.csv} puts before formula-looking
 * cells is taken off again. A file that is not UTF-8, not CSV or lacks a column is refused as a
 * whole ({@link IllegalArgumentException} with one message), so nothing is half applied.
 */
final class ReviewedCsv {
    static final List<String> REQUIRED = List.of("image_path", "content_sha256", "prompt", "review_status",
            "reviewed_text");

    /** One decided (or undecided: empty status) row of the file; {@code line} is its record number. */
    record Entry(long line, String imagePath, String contentSha256, String prompt, String status, String reviewedText) {
    }

    private ReviewedCsv() {
    }

    static List<Entry> read(Path file) {
        String name = file.getFileName().toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("--apply: cannot read " + file + ": " + e.getMessage(), e);
        }
        String text = utf8(bytes, name);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException("--apply: " + name + " is empty; expected a CSV with the columns " + REQUIRED);
        }
        List<Entry> entries = new ArrayList<>();
        CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
                .setIgnoreSurroundingSpaces(false).get();
        try (CSVParser parser = CSVParser.parse(text, format)) {
            List<String> header = parser.getHeaderNames();
            for (String column : REQUIRED) {
                if (!header.contains(column)) {
                    throw new IllegalArgumentException("--apply: " + name + " has no column '" + column
                            + "'; expected the columns " + REQUIRED + " (found " + header + ")");
                }
            }
            for (CSVRecord r : parser) {
                entries.add(new Entry(r.getRecordNumber(), cell(r, "image_path"), cell(r, "content_sha256"),
                        cell(r, "prompt"), cell(r, "review_status").strip().toLowerCase(Locale.ROOT),
                        cell(r, "reviewed_text")));
            }
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw new IllegalArgumentException("--apply: " + name + " is not valid CSV: " + rootMessage(e), e);
        }
        return entries;
    }

    private static String utf8(byte[] bytes, String name) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException("--apply: " + name + " is not UTF-8 text (an invalid byte sequence); "
                    + "save it as CSV UTF-8", e);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("--apply: " + name + " is not UTF-8 text: " + e, e);
        }
    }

    /** A cell by column name; missing trailing cells are empty; a spreadsheet-safety {@code '} is removed. */
    private static String cell(CSVRecord r, String column) {
        String v = r.isSet(column) ? r.get(column) : "";
        if (v.length() >= 2 && v.charAt(0) == '\'') {
            char c = v.charAt(1);
            if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r') {
                return v.substring(1);
            }
        }
        return v;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
