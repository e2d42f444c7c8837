package dev.moonbatch.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Finds the image files under an input folder on any Hadoop file system. The result is
 * sorted so that partitioning, output order and reruns are deterministic.
 */
public final class ImageLister {
    /** Extensions (lowercase, no dot) that are listed; the check ignores case. */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff");

    /** Guards against directory symlink loops, which a recursive listing would follow forever. */
    private static final int MAX_DEPTH = 256;

    private ImageLister() {
    }

    /**
     * Lists image files under {@code input}, recursively.
     *
     * @param input a local path (made absolute, {@code file:} scheme), a {@code file://} URI or
     *     any Hadoop URI such as {@code hdfs://nn/path}; a single image file is allowed
     * @return fully qualified path strings (Hadoop {@link Path#toString()} form, e.g.
     *     {@code file:/data/a b.jpg}), sorted; entries whose name starts with {@code .} or
     *     {@code _} are skipped with everything under them, as Hadoop and Spark do
     * @throws IllegalArgumentException if {@code input} does not exist
     */
    public static List<String> list(String input, Configuration conf) throws IOException {
        return listFiles(input, conf).stream().map(ListedFile::path).toList();
    }

    /**
     * {@link #list} with each file's size and modification time, which the listing returns anyway
     * (no extra call per file), sorted by path.
     */
    public static List<ListedFile> listFiles(String input, Configuration conf) throws IOException {
        Path root = HadoopPaths.resolve(input);
        FileSystem fs = HadoopPaths.fileSystem(root, conf);
        FileStatus rootStatus;
        try {
            rootStatus = fs.getFileStatus(root);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("--input: no such directory: " + input, e);
        }
        List<ListedFile> found = new ArrayList<>();
        if (rootStatus.isFile()) {
            if (isImageName(rootStatus.getPath().getName())) {
                found.add(listed(fs, rootStatus));
            }
            return found;
        }
        Deque<Entry> pending = new ArrayDeque<>();
        pending.push(new Entry(rootStatus.getPath(), 0));
        while (!pending.isEmpty()) {
            Entry dir = pending.pop();
            FileStatus[] children;
            try {
                children = fs.listStatus(dir.path());
            } catch (FileNotFoundException e) {
                continue; // removed while we were listing
            }
            for (FileStatus child : children) {
                String name = child.getPath().getName();
                if (isHidden(name)) {
                    continue;
                }
                if (child.isDirectory()) {
                    if (dir.depth() + 1 > MAX_DEPTH) {
                        throw new IOException("folders nested deeper than " + MAX_DEPTH
                                + " levels (a symbolic link loop?) at " + child.getPath());
                    }
                    pending.push(new Entry(child.getPath(), dir.depth() + 1));
                } else if (isImageName(name)) {
                    found.add(listed(fs, child));
                }
            }
        }
        found.sort(java.util.Comparator.comparing(ListedFile::path));
        return found;
    }

    private static ListedFile listed(FileSystem fs, FileStatus status) {
        return new ListedFile(fs.makeQualified(status.getPath()).toString(), status.getLen(), status.getModificationTime());
    }

    /** True for names Hadoop treats as hidden: {@code .staging}, {@code _SUCCESS}, {@code .x.crc}. */
    static boolean isHidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    static boolean isImageName(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && dot < name.length() - 1
                && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private record Entry(Path path, int depth) {
    }
}
