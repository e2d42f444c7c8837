package dev.moonbatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moonbatch.io.OddImageCorpus.Expectation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageListerTest {
    private final Configuration conf = new Configuration();

    /** What the lister must return for corpus names: Hadoop's {@code file:/abs/path} form. */
    private static List<String> qualified(Path root, Iterable<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            out.add("file:" + root.toAbsolutePath().resolve(n));
        }
        out.sort(null);
        return out;
    }

    @Test
    void listsExactlyTheCorpusImagesRecursivelySkippingHiddenAndNonImages(@TempDir Path dir) throws Exception {
        Map<String, Expectation> corpus = OddImageCorpus.writeTo(dir);
        List<String> listed = ImageLister.list(dir.toString(), conf);
        assertEquals(qualified(dir, corpus.keySet()), listed);
        assertTrue(listed.stream().anyMatch(p -> p.endsWith("/a/b/c/deep.png")));
        assertTrue(listed.stream().anyMatch(p -> p.endsWith("/names/UPPER.JPG")));
        assertTrue(listed.stream().anyMatch(p -> p.endsWith("/names/Mixed.PnG")));
        assertTrue(listed.stream().noneMatch(p -> p.contains("/.hidden/") || p.contains("/_temporary/")
                || p.endsWith(".dotfile.png") || p.endsWith("_SUCCESS") || p.endsWith(".txt") || p.endsWith(".bak")));
    }

    @Test
    void fileUriRelativePathAndTrailingSlashGiveTheSameList(@TempDir Path dir) throws Exception {
        OddImageCorpus.writeTo(dir);
        List<String> plain = ImageLister.list(dir.toString(), conf);
        assertEquals(plain, ImageLister.list("file://" + dir.toAbsolutePath(), conf));
        assertEquals(plain, ImageLister.list("file:" + dir.toAbsolutePath() + "/", conf));
        Path relative = Path.of("").toAbsolutePath().relativize(dir.toAbsolutePath());
        assertEquals(plain, ImageLister.list(relative.toString(), conf));
    }

    @Test
    void oddNamesRoundTripThroughReadAll(@TempDir Path dir) throws Exception {
        Path odd;
        try {
            odd = Files.createDirectories(dir.resolve("in put, \"x\" 'y' =z é 日本"));
        } catch (java.nio.file.InvalidPathException notUtf8Locale) { // POSIX locale: no non-ASCII names
            odd = Files.createDirectories(dir.resolve("in put, \"x\" 'y' =z"));
        }
        byte[] png = OddImageCorpus.png(OddImageCorpus.quadrants(4, 4));
        Files.write(odd.resolve("=1+1, \"q\" 'a' b#%20.png"), png);
        List<String> listed = ImageLister.list("file://" + odd.toAbsolutePath(), conf);
        assertEquals(1, listed.size());
        assertTrue(listed.get(0).startsWith("file:/"), listed.get(0));
        assertEquals(new String(png, java.nio.charset.StandardCharsets.ISO_8859_1),
                new String(ImageFiles.readAll(listed.get(0), conf, 1 << 20), java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Test
    void sortedAndDeterministic(@TempDir Path dir) throws Exception {
        for (String n : new String[] {"b.png", "a.png", "C.png", "sub/a.png", "a.PNG"}) {
            Files.createDirectories(dir.resolve(n).getParent());
            Files.write(dir.resolve(n), new byte[] {1});
        }
        List<String> listed = ImageLister.list(dir.toString(), conf);
        List<String> sorted = new ArrayList<>(listed);
        sorted.sort(null);
        assertEquals(sorted, listed);
        assertEquals(5, listed.size());
        assertEquals(listed, ImageLister.list(dir.toString(), conf));
    }

    @Test
    void aSingleFileIsAllowed(@TempDir Path dir) throws Exception {
        Path img = Files.write(dir.resolve("one photo.JPEG"), new byte[] {1});
        assertEquals(List.of("file:" + img.toAbsolutePath()), ImageLister.list(img.toString(), conf));
        Path txt = Files.write(dir.resolve("notes.txt"), new byte[] {1});
        assertEquals(List.of(), ImageLister.list(txt.toString(), conf));
    }

    @Test
    void emptyFolderGivesEmptyList(@TempDir Path dir) throws Exception {
        assertEquals(List.of(), ImageLister.list(dir.toString(), conf));
    }

    @Test
    void missingInputIsAnIllegalArgument(@TempDir Path dir) {
        String missing = dir.resolve("nope").toString();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageLister.list(missing, conf));
        assertEquals("--input: no such directory: " + missing, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageLister.list("file://" + missing, conf));
    }

    @Test
    void extensionCheckIgnoresCaseAndNeedsARealExtension() {
        assertTrue(ImageLister.isImageName("X.TIF"));
        assertTrue(ImageLister.isImageName("x.WebP"));
        assertTrue(ImageLister.isImageName("a.b.jpeg"));
        assertTrue(!ImageLister.isImageName("png"));
        assertTrue(!ImageLister.isImageName("x.png.txt"));
        assertTrue(!ImageLister.isImageName("x."));
        assertTrue(!ImageLister.isImageName("x.svg"));
    }

    /** Folders are listed concurrently; the result is still every file once, sorted. */
    @Test
    void wideAndDeepTreesListEveryFileOnce(@TempDir Path dir) throws Exception {
        List<String> expected = new ArrayList<>();
        for (int a = 0; a < 40; a++) {
            for (int b = 0; b < 5; b++) {
                Path folder = Files.createDirectories(dir.resolve("d" + a).resolve("e" + b));
                for (int f = 0; f < 3; f++) {
                    Path file = folder.resolve("sku-" + f + ".jpg");
                    Files.write(file, new byte[] {(byte) f});
                    expected.add("file:" + file.toAbsolutePath());
                }
            }
        }
        expected.sort(null);
        List<ListedFile> listed = ImageLister.listFiles(dir.toString(), conf);
        assertEquals(expected, listed.stream().map(ListedFile::path).toList());
        assertTrue(listed.stream().allMatch(f -> f.size() == 1 && f.modifiedMs() > 0));
    }

    @Test
    void aSymbolicLinkLoopListsEachFileOnce(@TempDir Path dir) throws Exception {
        Path inner = Files.createDirectories(dir.resolve("a"));
        Files.write(inner.resolve("x.png"), new byte[] {1});
        Files.createSymbolicLink(inner.resolve("loop"), dir);
        // a local link back to a folder above is not followed; elsewhere MAX_DEPTH stops a loop
        assertEquals(List.of("file:" + inner.toAbsolutePath().resolve("x.png")), ImageLister.list(dir.toString(), conf));
    }

    /** Split at the top and listed folder by folder (as the executors do), a tree gives the same files. */
    @Test
    void splittingTheTreeListsTheSameFiles(@TempDir Path dir) throws Exception {
        OddImageCorpus.writeTo(dir);
        for (int a = 0; a < 12; a++) {
            Path folder = Files.createDirectories(dir.resolve("cat" + a).resolve("sub"));
            Files.write(folder.resolve("x.jpg"), new byte[] {1});
        }
        List<String> whole = ImageLister.list(dir.toString(), conf);
        for (int minFolders : new int[] {1, 4, 20, 1000}) {
            ImageLister.Split split = ImageLister.split(dir.toString(), conf, minFolders);
            List<String> parts = new ArrayList<>();
            split.files().forEach(f -> parts.add(f.path()));
            for (ImageLister.Folder folder : split.folders()) {
                ImageLister.listFolder(folder, conf).forEach(f -> parts.add(f.path()));
            }
            parts.sort(null);
            assertEquals(whole, parts, "split at " + minFolders + " folders");
            assertTrue(minFolders > 20 || split.folders().size() >= Math.min(minFolders, 12), "folders: " + split.folders());
        }
    }
    /**
     * Local folders are listed through java.nio; Hadoop's listing of the same tree (odd names,
     * links to files and folders, a dangling link, a link loop) gives the same paths, sizes and times.
     */
    @Test
    void localListingEqualsHadoopsListing(@TempDir Path dir) throws Exception {
        OddImageCorpus.writeTo(dir);
        Path odd = Files.createDirectories(dir.resolve("in put, 'y' =z #1 %20"));
        Files.write(odd.resolve("=1+1, \"q\" b#%20 [x] {y}.png"), new byte[] {1, 2, 3});
        Files.write(odd.resolve("a:b.jpg"), new byte[] {4});
        Path target = Files.write(dir.resolve("target.jpg"), new byte[] {5, 6});
        Files.createSymbolicLink(odd.resolve("link.jpg"), target);
        Files.createSymbolicLink(odd.resolve("dangling.jpg"), dir.resolve("nowhere.jpg"));
        Files.createSymbolicLink(odd.resolve("linked-folder"), dir.resolve("names"));
        Files.createSymbolicLink(odd.resolve("loop"), dir);
        ImageLister.Folder root = new ImageLister.Folder("file:" + dir.toAbsolutePath(), 0, List.of());
        java.util.Comparator<ListedFile> byPath = java.util.Comparator.comparing(ListedFile::path);
        List<ListedFile> viaNio = new ArrayList<>(ImageLister.listFolder(root, conf, true));
        List<ListedFile> viaHadoop = new ArrayList<>(ImageLister.listFolder(root, conf, false));
        viaNio.sort(byPath);
        viaHadoop.sort(byPath);
        assertEquals(viaHadoop, viaNio);
        assertTrue(viaNio.stream().anyMatch(f -> f.path().endsWith("/link.jpg") && f.size() == 2), viaNio.toString());
        assertTrue(viaNio.stream().anyMatch(f -> f.path().endsWith("/linked-folder/UPPER.JPG")), viaNio.toString());
        assertTrue(viaNio.stream().anyMatch(f -> f.path().endsWith("[x] {y}.png") && f.size() == 3), viaNio.toString());
        assertTrue(viaNio.stream().noneMatch(f -> f.path().contains("dangling")), viaNio.toString());
    }
}
