package dev.moonbatch.job;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.io.input.BOMInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A CSV a user writes to pair two things ({@code --questions}: image and question; {@code --products}:
 * product and image), read the same way for both: on any Hadoop FileSystem, a UTF-8 byte-order mark
 * skipped (spreadsheet programs write one), the header checked, both cells of every row required.
 */
final class TwoColumnCsv {
    /** One row's two cells, stripped and non-empty. */
    @FunctionalInterface
    interface Row {
        void accept(String first, String second) throws IOException;
    }

    private TwoColumnCsv() {
    }

    /**
     * @param option the command-line option naming the file, for messages
     * @throws IllegalArgumentException naming the option, the file and the line, on a wrong header or an empty cell
     */
    static void read(String option, String file, String first, String second, Configuration conf, Row each)
            throws IOException {
        Path path = new Path(file);
        FileSystem fs = path.getFileSystem(conf);
        try (Reader reader = new InputStreamReader(
                BOMInputStream.builder().setInputStream(fs.open(path)).get(), StandardCharsets.UTF_8);
             CSVParser csv = CSVParser.parse(reader, CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            if (!csv.getHeaderNames().containsAll(List.of(first, second))) {
                throw new IllegalArgumentException(option + ": " + file + " must have the header " + first + "," + second
                        + " but has " + csv.getHeaderNames());
            }
            for (CSVRecord r : csv) {
                String a = r.get(first).strip();
                String b = r.get(second).strip();
                if (a.isEmpty() || b.isEmpty()) {
                    throw new IllegalArgumentException(option + ": line " + r.getRecordNumber() + " of " + file
                            + " needs both " + first + " and " + second);
                }
                each.accept(a, b);
            }
        }
    }
}
