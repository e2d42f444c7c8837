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
 * Greedy search against beam search on one bundle, the same images and the same fixed output length:
 * no EOS (every row runs exactly TOKENS steps) and no logits processors, so both searches do the same
 * number of steps and beam search differs only by its rows per input and its cache gathers.
 * Usage: java -cp CP bench/BeamVsGreedyBench.java BUNDLE IMAGES_DIR N TOKENS THREADS BATCH BEAMS [TASK_PROMPT]
 * Prints one line per search and the ratio; the model load and a warm-up of each search are not timed,
 * the timed runs alternate greedy / beam REPEATS times (system property repeats, default 3) and the best
 * of each is reported.
 */
public class BeamVsGreedyBench {
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
        int beams = Integer.parseInt(args[6]);
        String prompt = args.length > 7 ? args[7] : "";
        int repeats = Integer.getInteger("repeats", 3);
        try (VisionLanguageModel model = ModelLoader.load(bundle, new RuntimeOptions(Precision.FP32, threads))) {
            GenerationOptions greedy = new GenerationOptions(tokens, List.of());
            GenerationOptions beam = greedy.withNumBeams(beams);
            List<PreparedImage> images = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                images.add(model.prepare(ImageIO.read(files.get(i % files.size()).toFile())));
            }
            Task task = new Task(Task.CAPTION, prompt);
            run(model, images.subList(0, Math.min(batch, n)), batch, task, greedy);
            run(model, images.subList(0, Math.min(batch, n)), batch, task, beam);
            double bestGreedy = Double.MAX_VALUE;
            double bestBeam = Double.MAX_VALUE;
            int greedyTokens = 0;
            int beamTokens = 0;
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                greedyTokens = run(model, images, batch, task, greedy);
                bestGreedy = Math.min(bestGreedy, (System.nanoTime() - t0) / 1e6 / n);
                t0 = System.nanoTime();
                beamTokens = run(model, images, batch, task, beam);
                bestBeam = Math.min(bestBeam, (System.nanoTime() - t0) / 1e6 / n);
            }
            if (greedyTokens != beamTokens) {
                throw new IllegalStateException("unequal work: " + greedyTokens + " vs " + beamTokens + " tokens");
            }
            System.out.printf("%s: greedy %.1f ms/image, %d beams %.1f ms/image, ratio %.2fx (%d images, batch %d, %d tokens each, %d threads)%n",
                    model.name(), bestGreedy, beams, bestBeam, bestBeam / bestGreedy, n, batch, greedyTokens / n, threads);
        }
    }

    private static int run(VisionLanguageModel model, List<PreparedImage> images, int batch, Task task,
                           GenerationOptions options) throws Exception {
        int tokens = 0;
        for (int from = 0; from < images.size(); from += batch) {
            List<Query> queries = images.subList(from, Math.min(from + batch, images.size())).stream()
                    .map(p -> new Query(p, task)).toList();
            for (Generation g : model.generate(queries, options)) {
                tokens += g.tokenIds().length;
            }
        }
        return tokens;
    }
}
