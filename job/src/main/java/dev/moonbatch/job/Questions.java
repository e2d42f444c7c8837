package dev.moonbatch.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
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
        Path inputDir = new Path(input);
        FileSystem inputFs = inputDir.getFileSystem(conf);
        Map<String, List<String>> out = new LinkedHashMap<>();
        TwoColumnCsv.read("--questions", file, "image_path", "question", conf, (image, question) ->
                out.computeIfAbsent(qualify(image, inputDir, inputFs, conf), k -> new ArrayList<>()).add(question));
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
