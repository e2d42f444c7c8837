package dev.moonbatch.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Writes the results table as CSV for people who open it in a spreadsheet: RFC 4180
 * quoting, UTF-8 without BOM, CRLF line ends, formula-looking cells neutralised (file
 * names and captions are user data, see OWASP "CSV Injection"), and an atomic replace so
 * a reader never sees a half-written file.
 */
public final class CsvExport {
    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setNullString("").get();

    private CsvExport() {
    }

    /**
     * Writes {@code header} and {@code rows} to {@code target}, replacing it atomically.
     * Null cells become empty cells; every row must have as many cells as the header.
     */
    public static void write(Path target, List<String> header, Iterable<? extends List<String>> rows)
            throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        // A dot name: Hadoop/Spark and most tools treat it as hidden while it is incomplete.
        Path temp = dir.resolve("." + absolute.getFileName() + "." + UUID.randomUUID() + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(channel);
                Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                CSVPrinter printer = new CSVPrinter(writer, FORMAT);
                printer.printRecord(neutralised(header));
                int line = 1;
                for (List<String> row : rows) {
                    line++;
                    if (row.size() != header.size()) {
                        throw new IllegalArgumentException("CSV row " + line + " has " + row.size()
                                + " cells but the header has " + header.size());
                    }
                    printer.printRecord(neutralised(row));
                }
                printer.flush();
                channel.force(true);
            }
            Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static List<String> neutralised(List<String> cells) {
        List<String> out = new ArrayList<>(cells.size());
        for (String cell : cells) {
            out.add(neutralise(cell));
        }
        return out;
    }

    /**
     * Prefixes {@code '} to a cell a spreadsheet would evaluate as a formula (leading
     * {@code = + - @}, tab or carriage return); {@code null} stays null (an empty cell).
     */
    public static String neutralise(String cell) {
        if (cell == null || cell.isEmpty()) {
            return cell;
        }
        char c = cell.charAt(0);
        return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' ? "'" + cell : cell;
    }
}
