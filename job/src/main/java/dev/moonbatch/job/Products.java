package dev.moonbatch.job;

import dev.moonbatch.io.ContentHash;
import dev.moonbatch.io.ListedFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Products with several photos, each answered in one prompt that shows them all: {@code --group-by folder}
 * (each folder of the listing is one product, its id the folder's qualified path, its photos sorted by
 * path) or {@code --products FILE} (CSV {@code product_id,image_path}, photos in file order; relative
 * paths are under {@code --input}; a photo that is not there makes its product an error row).
 *
 * <p>A product is one {@link WorkItem}: its size is the sum of its photos' sizes and its "modification
 * time" a fingerprint of every photo's path, size and time, so a rerun reuses a product's row unopened
 * only when none of its photos moved, changed or was added or taken away. Its content hash is the
 * SHA-256 of its photos' hashes in order.
 *
 * @param byFolder    {@code --group-by folder}
 * @param file        {@code --products FILE}, or null
 */
record Products(boolean byFolder, String file) implements Serializable {

    /** The SHA-256 of a product: of its photos' hex hashes, one per line, in prompt order. */
    static String contentHash(List<String> photoHashes) {
        return ContentHash.sha256Hex((String.join("\n", photoHashes) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Each product of the listing (sorted by path), asked {@code prompts}. */
    List<WorkItem> items(List<ListedFile> listing, List<String> prompts, String input, Configuration conf) throws IOException {
        Map<String, ListedFile> listed = new LinkedHashMap<>();
        listing.forEach(f -> listed.put(f.path(), f));
        Map<String, List<String>> members = byFolder ? byFolder(listing) : read(file, input, conf);
        List<WorkItem> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> p : members.entrySet()) {
            long size = 0;
            long fingerprint = 17;
            boolean known = true;
            for (String photo : p.getValue()) {
                ListedFile f = listed.get(photo);
                if (f == null) {
                    known = false;
                    break;
                }
                size += f.size();
                fingerprint = 31 * fingerprint + (photo.hashCode() * 31L + f.size()) * 31L + f.modifiedMs();
            }
            // positive: ReusePlan takes a time of 0 for a store that keeps none
            out.add(known ? new WorkItem(p.getKey(), prompts, size, (fingerprint & Long.MAX_VALUE) | 1, p.getValue())
                    : new WorkItem(p.getKey(), prompts, WorkItem.UNKNOWN, WorkItem.UNKNOWN, p.getValue()));
        }
        return out;
    }

    private static Map<String, List<String>> byFolder(List<ListedFile> listing) {
        Map<String, List<String>> out = new TreeMap<>();
        for (ListedFile f : listing) {
            out.computeIfAbsent(new Path(f.path()).getParent().toString(), k -> new ArrayList<>()).add(f.path());
        }
        out.values().forEach(java.util.Collections::sort);
        return out;
    }

    /** The products file: photos by product id, in file order. */
    static Map<String, List<String>> read(String file, String input, Configuration conf) throws IOException {
        Path inputDir = new Path(input);
        FileSystem inputFs = inputDir.getFileSystem(conf);
        Map<String, List<String>> out = new LinkedHashMap<>();
        TwoColumnCsv.read("--products", file, "product_id", "image_path", conf, (id, image) -> {
            String qualified = Questions.qualify(image, inputDir, inputFs, conf);
            List<String> photos = out.computeIfAbsent(id, k -> new ArrayList<>());
            if (!photos.contains(qualified)) {
                photos.add(qualified);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--products: " + file + " names no product");
        }
        return out;
    }
}
