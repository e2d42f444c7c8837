package dev.moonbatch.io;

import java.util.LinkedHashSet;
import java.util.Set;

/** Short one-line descriptions of exception chains, for the user-facing error column. */
final class Messages {
    private Messages() {
    }

    /** e.g. {@code Error reading PNG image data (EOFException: Unexpected end of ZLIB input stream)}. */
    static String of(Throwable t) {
        Set<String> parts = new LinkedHashSet<>();
        for (Throwable c = t; c != null && parts.size() < 4; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            parts.add(m == null || m.isBlank() ? c.getClass().getSimpleName()
                    : (c == t && c instanceof java.io.IOException && !(c instanceof java.io.EOFException)
                            ? m : c.getClass().getSimpleName() + ": " + m).replaceAll("\\s+", " ").strip());
        }
        String first = parts.iterator().next();
        if (parts.size() == 1) {
            return first;
        }
        return first + " (" + String.join("; ", parts.stream().skip(1).toList()) + ")";
    }

    /** True if an EOF somewhere in the chain says the data ended early. */
    static boolean endedEarly(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.io.EOFException) {
                return true;
            }
            String m = c.getMessage();
            if (m != null && m.toLowerCase(java.util.Locale.ROOT).matches(".*(unexpected end|premature end|truncat).*")) {
                return true;
            }
        }
        return false;
    }
}
