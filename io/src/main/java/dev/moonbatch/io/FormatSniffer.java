package dev.moonbatch.io;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Guesses what a file that no image decoder recognises actually is, so the error tells
 * the user "this is an HTML page" rather than only "unsupported".
 */
final class FormatSniffer {
    private FormatSniffer() {
    }

    /** A short phrase for {@code UNSUPPORTED_FORMAT: not an image (<hint>)}. */
    static String hint(byte[] b) {
        if (startsWith(b, 0, "%PDF")) {
            return "content looks like a PDF document";
        }
        if (startsWith(b, 0, "PK\u0003\u0004")) {
            return "content looks like a ZIP archive (or an Office document)";
        }
        if (b.length > 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b) {
            return "content looks like gzip-compressed data";
        }
        if (startsWith(b, 4, "ftyp")) {
            String brand = b.length >= 12 ? new String(b, 8, 4, StandardCharsets.ISO_8859_1) : "";
            if (brand.matches("hei.|hev.|mif1|msf1|avif|avis")) {
                return "HEIC/HEIF or AVIF image, which is not supported";
            }
            return "content looks like an MP4/QuickTime video";
        }
        if (startsWith(b, 0, "8BPS")) {
            return "Photoshop PSD file, which is not supported";
        }
        if (b.length >= 2 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0x0a
                || startsWith(b, 4, "JXL ")) {
            return "JPEG XL image, which is not supported";
        }
        if (startsWith(b, 0, "RIFF") && !startsWith(b, 8, "WEBP")) {
            return "content looks like a RIFF file (audio or video)";
        }
        String text = leadingText(b);
        if (text != null) {
            String lower = text.toLowerCase(Locale.ROOT).stripLeading();
            if (lower.startsWith("<!doctype html") || lower.startsWith("<html") || lower.contains("<html")
                    || lower.contains("<head") || lower.contains("<body")) {
                return "content looks like HTML";
            }
            if (lower.contains("<svg")) {
                return "SVG vector image, which is not supported";
            }
            if (lower.startsWith("<?xml")) {
                return "content looks like XML";
            }
            if (lower.startsWith("{") || lower.startsWith("[")) {
                return "content looks like JSON";
            }
            return "content looks like text";
        }
        int n = Math.min(8, b.length);
        return "unrecognised binary data starting with " + HexFormat.ofDelimiter(" ").formatHex(b, 0, n);
    }

    /** The first bytes as text if they look like text (UTF-8 or ASCII, few control characters). */
    private static String leadingText(byte[] b) {
        int n = Math.min(b.length, 1024);
        int start = n >= 3 && (b[0] & 0xff) == 0xef && (b[1] & 0xff) == 0xbb && (b[2] & 0xff) == 0xbf ? 3 : 0;
        int control = 0;
        for (int i = start; i < n; i++) {
            int c = b[i] & 0xff;
            if (c == 0) {
                return null;
            }
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') {
                control++;
            }
        }
        if (control > (n - start) / 50) {
            return null;
        }
        String s = new String(b, start, n - start, StandardCharsets.UTF_8);
        long replaced = s.chars().filter(c -> c == '\uFFFD').count();
        return replaced > 2 ? null : s;
    }

    private static boolean startsWith(byte[] b, int offset, String ascii) {
        if (b.length < offset + ascii.length()) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if ((b[offset + i] & 0xff) != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
