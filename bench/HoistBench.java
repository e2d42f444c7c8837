import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import dev.moonbatch.runtime.generate.GenerationOptions;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Our vit-gpt2 path (VitGpt2: encoder, per-image graph, merged decoder, greedy) on a folder of
 * images, EOS ignored so every image costs exactly MAX_NEW_TOKENS steps, fp32.
 * Usage: java -cp CP bench/HoistBench.java BUNDLE IMAGES_DIR N MAX_NEW_TOKENS THREADS BATCH on|off
 * Prints "<label>: X images/s"; model load (and, on first use, the rewrite and its check) is timed apart.
 */
public class HoistBench {
    public static void main(String[] args) throws Exception {
        Path bundle = Path.of(args[0]);
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of(args[1]))) {
            files = s.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList();
        }
        int n = Integer.parseInt(args[2]);
        int tokens = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        int batch = Integer.parseInt(args[5]);
        boolean hoist = args[6].equals("on");
        long t0 = System.nanoTime();
        try (VisionLanguageModel model = ModelLoader.load(bundle, new RuntimeOptions(Precision.FP32, threads, hoist))) {
            double load = (System.nanoTime() - t0) / 1e9;
            GenerationOptions options = new GenerationOptions(tokens, List.of());
            List<Path> images = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                images.add(files.get(i % files.size()));
            }
            run(model, images.subList(0, Math.min(batch, n)), batch, options); // warm-up
            long start = System.nanoTime();
            int generated = run(model, images, batch, options);
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("moonbatch %s rewrite (batch %d): %.3f images/s, %.1f ms/image, %d tokens/image, load %.1fs%n",
                    hoist ? "with" : "without", batch, n / secs, 1000 * secs / n, generated / n, load);
        }
    }

    private static int run(VisionLanguageModel model, List<Path> images, int batch, GenerationOptions options)
            throws Exception {
        int tokens = 0;
        for (int from = 0; from < images.size(); from += batch) {
            List<PreparedImage> prepared = new ArrayList<>();
            for (Path p : images.subList(from, Math.min(from + batch, images.size()))) {
                prepared.add(model.prepare(ImageIO.read(p.toFile())));
            }
            for (Generation g : model.generate(prepared.stream().map(p -> new Query(p, Task.caption())).toList(), options)) {
                tokens += g.tokenIds().length;
            }
        }
        return tokens;
    }
}
