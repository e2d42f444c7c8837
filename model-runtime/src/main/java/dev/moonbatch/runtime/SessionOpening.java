package dev.moonbatch.runtime;

import ai.onnxruntime.OrtSession;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A model part being loaded on a thread of its own. ONNX Runtime optimises a graph on the thread that
 * creates the session, so a model's independent sessions (vision encoder, embeddings, decoder) load
 * side by side: a model loads in about the time of its largest file rather than the sum. Threads get
 * the large stack {@link ModelLoader#load} gives the whole load, for the same reason.
 *
 * @param <T> what is loaded: a session, or something holding sessions
 */
public final class SessionOpening<T extends AutoCloseable> {
    private final Thread thread;
    private volatile T value;
    private volatile Throwable failure;

    private SessionOpening(Supplier<T> load, String name) {
        this.thread = new Thread(null, () -> {
            try {
                value = load.get();
            } catch (RuntimeException | Error e) {
                failure = e;
            }
        }, "moonbatch-load-" + name, ModelLoader.LOAD_STACK_BYTES);
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts loading {@code load} now. */
    public static <T extends AutoCloseable> SessionOpening<T> start(String name, Supplier<T> load) {
        return new SessionOpening<>(load, name);
    }

    /** Starts opening {@code file} ({@link OrtSessions#open}). */
    public static SessionOpening<OrtSession> open(Path file, RuntimeOptions options) {
        return start(String.valueOf(file.getFileName()), () -> OrtSessions.open(file, options));
    }

    /**
     * Waits for every opening and returns their values in order. If any failed, the others are still
     * awaited and closed (no session is left behind) and the first failure is thrown.
     */
    public static List<AutoCloseable> all(List<SessionOpening<?>> openings) {
        Throwable first = null;
        List<AutoCloseable> values = new ArrayList<>();
        for (SessionOpening<?> o : openings) {
            o.await();
            if (o.failure != null && first == null) {
                first = o.failure;
            }
            values.add(o.value);
        }
        if (first != null) {
            for (AutoCloseable v : values) {
                closeQuietly(v);
            }
            if (first instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) first;
        }
        return values;
    }

    private void await() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the load runs on; its sessions must not be leaked
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // already failing
        }
    }
}
