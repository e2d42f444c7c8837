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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --questions} file: CSV with a header {@code image_path,question}, several rows per image
 * allowed. A UTF-8 byte-order mark is skipped: spreadsheet programs write one when they save CSV.
 */
final class Questions {
    private Questions() {
    }

    /** Questions by fully qualified image path (relative paths are under {@code input}), in file order. */
    static Map<String, List<String>> read(String file, String input, Configuration conf) throws IOException {
        Path path = new Path(file);
        FileSystem fs = path.getFileSystem(conf);
        Path inputDir = new Path(input);
        FileSystem inputFs = inputDir.getFileSystem(conf);
        Map<String, List<String>> out = new LinkedHashMap<>();
        try (Reader reader = new InputStreamReader(
                BOMInputStream.builder().setInputStream(fs.open(path)).get(), StandardCharsets.UTF_8);
             CSVParser csv = CSVParser.parse(reader, CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            if (!csv.getHeaderNames().containsAll(List.of("image_path", "question"))) {
                throw new IllegalArgumentException("--questions: " + file + " must have the header image_path,question but has "
                        + csv.getHeaderNames());
            }
            for (CSVRecord r : csv) {
                String image = r.get("image_path").strip();
                String question = r.get("question").strip();
                if (image.isEmpty() || question.isEmpty()) {
                    throw new IllegalArgumentException("--questions: line " + r.getRecordNumber() + " of " + file
                            + " needs both image_path and question");
                }
                out.computeIfAbsent(qualify(image, inputDir, inputFs, conf), k -> new ArrayList<>()).add(question);
            }
        }
        return out;
    }

    /** An image path of a CSV, fully qualified: as it is when absolute or with a scheme, else under the input folder. */
    static String qualify(String image, Path inputDir, FileSystem inputFs, Configuration conf) throws IOException {
        Path p = new Path(image);
        Path qualified = p.isAbsolute() || p.toUri().getScheme() != null
                ? p.getFileSystem(conf).makeQualified(p) : inputFs.makeQualified(new Path(inputDir, image));
        return qualified.toString();
    }
}
