package dev.moonbatch.job;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.poi.ss.usermodel.Cell;
import org.apache.poi.ss.usermodel.CellType;
import org.apache.poi.ss.usermodel.DataFormatter;
import org.apache.poi.ss.usermodel.Row;
import org.apache.poi.ss.usermodel.Sheet;
import org.apache.poi.ss.usermodel.Workbook;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * results.csv and changes.csv as a person sees them in a real spreadsheet: the job's output (non-ASCII
 * and formula-looking file names, an error row, then reviewer texts that look like formulas, applied
 * with {@code review --apply}) is converted to xlsx by LibreOffice Calc headless and read back with
 * Apache POI. Every row and column is there, every cell shows the CSV's text (numbers as numbers),
 * non-ASCII is intact and no cell is a formula, although the import evaluates formulas (the control
 * file proves that it does).
 *
 * <p>What LibreOffice (7.4) does with CsvExport's {@code '} prefix: it keeps it. The CSV cell
 * {@code '=HYPERLINK("http://x")} becomes a STRING cell whose text, and displayed value, is
 * {@code '=HYPERLINK("http://x")}, apostrophe included (it is not hidden the way a typed leading
 * apostrophe is), so the xlsx text equals the CSV cell, and without the {@code '} it is the user's
 * data. Without the prefix the same cell becomes a live HYPERLINK formula, also with the plain
 * {@code CSV:44,34,76,1} options. File names never start a cell ({@code image_path} is a
 * {@code file:} URI), so {@code =cmd.png} needs no prefix; reviewer texts and captions can.
 * Line breaks inside a cell come back as LF (a CSV CRLF too).
 *
 * <p>Needs {@code soffice} (Debian package {@code libreoffice-calc-nogui}; {@code .ci/run} installs
 * it). Skipped when it is missing (a failure under {@code CI=true}).
 */
class SpreadsheetRoundTripTest {
    /**
     * LibreOffice's CSV import options: comma, double quote, UTF-8 (76), from line 1, every column
     * "Standard" (as detected), en-US number parsing (1033), quoted fields not forced to text,
     * no special-number (date) detection, no space trimming, and "evaluate formulas" on: the setting
     * under which a formula-looking cell is dangerous.
     */
    static final String CSV_IMPORT = "CSV:44,34,76,1,,1033,false,false,false,false,false,-1,true";

    /** An input file name that is not ASCII. */
    static final String UNICODE_NAME = "商品-ünïcødé.png";

    /** Reviewer texts that a spreadsheet would run as formulas, with non-ASCII, quotes, a comma and a CRLF. */
    static final Map<String, String> REVIEWED = new LinkedHashMap<>();

    static {
        REVIEWED.put("chelsea.png", "=HYPERLINK(\"http://example.invalid/?q=1\",\"click\")");
        REVIEWED.put("coffee.png", "-20% off, \"quoted\"\r\nsecond line");
        REVIEWED.put("rocket.jpg", "+1 rocket");
        REVIEWED.put(UNICODE_NAME, "@SUM(1) 商品 ünïcødé ✓");
    }

    @TempDir
    Path tmp;

    /** Skips the test when {@code ok} is false (a failure under {@code CI=true}: test-support's {@code CiNeverSkips}). */
    private static void needs(boolean ok, String why) {
        Assumptions.assumeTrue(ok, why);
    }

    @Test
    void resultsAndChangesSurviveLibreOfficeAsTextAndNumbersWithoutFormulas() throws Exception {
        String soffice = findSoffice();
        needs(soffice != null, "soffice not found on PATH: install Debian's libreoffice-calc-nogui "
                + "(apt-get install --no-install-recommends libreoffice-calc-nogui; .ci/run does)");
        String jnu = System.getProperty("sun.jnu.encoding", "UTF-8");
        needs(Charset.forName(jnu).newEncoder().canEncode(UNICODE_NAME), "file names are " + jnu
                + ", so " + UNICODE_NAME + " cannot be created: run with LANG=C.UTF-8 (.ci/run does)");

        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Path images = TestPaths.root().resolve("sample-data/images");
        for (String name : List.of("chelsea.png", "coffee.png", "rocket.jpg")) {
            Files.copy(images.resolve(name), in.resolve(name));
        }
        Files.copy(images.resolve("synthetic_green_bottle_white.png"), in.resolve(UNICODE_NAME));
        Files.copy(images.resolve("synthetic_red_mug_white.jpg"), in.resolve("=cmd.png"));
        Files.copy(images.resolve("synthetic_blue_ball_wooden.jpg"), in.resolve("-sale.jpg"));
        Files.copy(images.resolve("synthetic_yellow_star_grey.png"), in.resolve("@x.png"));
        Files.write(in.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 7, 1, 9, 3, 5, 0, 2, 8});
        Path out = tmp.resolve("out");

        long t0 = System.nanoTime();
        CliRun run = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model",
                TestPaths.demoModel().toString(), "--master", "local[2]");
        assertEquals(0, run.exitCode(), run.err());

        // The morning review: texts that look like formulas go into reviewed_text and final_text.
        List<CSVRecord> night = read(out.resolve(RunExports.RESULTS_CSV));
        assertEquals(1 + 8, night.size(), "the header and one row per image, the broken one included");
        int pathCol = night.get(0).toList().indexOf("image_path");
        int shaCol = night.get(0).toList().indexOf("content_sha256");
        StringBuilder reviewed = new StringBuilder("image_path,content_sha256,prompt,review_status,reviewed_text\r\n");
        for (CSVRecord r : night.subList(1, night.size())) {
            String text = REVIEWED.get(name(r.get(pathCol)));
            if (text != null) {
                reviewed.append(String.join(",", List.of(r.get(pathCol), r.get(shaCol), "", "edited", text)
                        .stream().map(c -> "\"" + c.replace("\"", "\"\"") + "\"").toList())).append("\r\n");
            }
        }
        Path reviewedCsv = tmp.resolve("reviewed.csv");
        Files.writeString(reviewedCsv, reviewed.toString(), StandardCharsets.UTF_8);
        CliRun review = CliRun.of("review", "--output", out.toString(), "--apply", reviewedCsv.toString(), "--master", "local[2]");
        assertEquals(0, review.exitCode(), review.err() + review.out());
        long t1 = System.nanoTime();

        // A control: the same kind of cells without CsvExport's prefix must come back as formulas,
        // or this test would prove nothing about the prefix.
        Path control = tmp.resolve("control.csv");
        Files.writeString(control, "a,b\r\n=1+1,\"=HYPERLINK(\"\"http://x\"\")\"\r\n", StandardCharsets.UTF_8);

        Path xlsx = tmp.resolve("xlsx");
        convert(soffice, xlsx, out.resolve(RunExports.RESULTS_CSV), out.resolve(RunExports.CHANGES_CSV), control);
        long t2 = System.nanoTime();

        try (Workbook book = open(xlsx.resolve("control.xlsx"))) {
            Row row = book.getSheetAt(0).getRow(1);
            assertEquals(CellType.FORMULA, row.getCell(0).getCellType(), "control: =1+1 is evaluated by this import");
            assertEquals(CellType.FORMULA, row.getCell(1).getCellType(), "control: =HYPERLINK(..) is evaluated by this import");
        }

        List<CSVRecord> resultsCsv = read(out.resolve(RunExports.RESULTS_CSV));
        List<CSVRecord> changesCsv = read(out.resolve(RunExports.CHANGES_CSV));
        assertEquals(1 + 8, changesCsv.size(), "a first run: every row is new, so all are in changes.csv");
        int prefixed = 0;
        for (var file : List.of(Map.entry("results", resultsCsv), Map.entry("changes", changesCsv))) {
            prefixed += sameAsCsv(file.getKey(), file.getValue(), xlsx.resolve(file.getKey() + ".xlsx"));
        }

        // What the user sees for the formula-looking cells: the CSV text, apostrophe and all, as text.
        Map<String, CSVRecord> byName = new LinkedHashMap<>();
        List<String> header = resultsCsv.get(0).toList();
        resultsCsv.stream().skip(1).forEach(r -> byName.put(name(r.get(header.indexOf("image_path"))), r));
        int reviewedCol = header.indexOf("reviewed_text");
        int finalCol = header.indexOf("final_text");
        int errorCol = header.indexOf("error");
        try (Workbook book = open(xlsx.resolve("results.xlsx"))) {
            Sheet sheet = book.getSheetAt(0);
            Map<String, Row> rows = new LinkedHashMap<>();
            for (int i = 1; i <= sheet.getLastRowNum(); i++) {
                rows.put(name(sheet.getRow(i).getCell(header.indexOf("image_path")).getStringCellValue()), sheet.getRow(i));
            }
            assertEquals(Set.of("chelsea.png", "coffee.png", "rocket.jpg", UNICODE_NAME, "=cmd.png", "-sale.jpg", "@x.png",
                    "broken.jpg"), byName.keySet(), "every input file has its row in results.csv");
            assertEquals(byName.keySet(), rows.keySet(), "the same images, non-ASCII and formula-looking names included");
            for (var e : REVIEWED.entrySet()) {
                Cell shown = rows.get(e.getKey()).getCell(reviewedCol);
                assertEquals(CellType.STRING, shown.getCellType(), e.getKey());
                String expected = lf("'" + e.getValue());
                // LibreOffice keeps the apostrophe: the cell displays  '=HYPERLINK("http://example.invalid/?q=1","click")
                assertEquals(expected, shown.getStringCellValue(), "reviewed_text of " + e.getKey());
                assertEquals(expected, new DataFormatter().formatCellValue(shown), "displayed reviewed_text of " + e.getKey());
                assertEquals(expected, rows.get(e.getKey()).getCell(finalCol).getStringCellValue(), "final_text of " + e.getKey());
            }
            Cell error = rows.get("broken.jpg").getCell(errorCol);
            assertEquals(CellType.STRING, error.getCellType());
            assertNotEquals("", error.getStringCellValue().strip(), "the broken image's row carries its error");
        }
        assertTrue(prefixed >= 2 * 2 * REVIEWED.size(), "the formula-looking reviewer texts were prefixed in both files");
        System.out.printf("spreadsheet round trip: job + review %.1f s, soffice conversion of 3 files %.1f s%n",
                (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /**
     * Checks the xlsx of one CSV against the CSV: the same rows and columns, the header, every
     * string cell's text equal to the CSV cell, numeric cells equal to the CSV number, empty cells
     * empty, and no formula (or other) cell anywhere. Returns how many cells carry the {@code '} prefix.
     */
    private static int sameAsCsv(String what, List<CSVRecord> csv, Path xlsx) throws Exception {
        int prefixed = 0;
        try (Workbook book = open(xlsx)) {
            assertEquals(1, book.getNumberOfSheets(), what);
            Sheet sheet = book.getSheetAt(0);
            assertEquals(csv.size(), sheet.getLastRowNum() + 1, what + ": rows");
            int columns = csv.get(0).size();
            for (int i = 0; i < csv.size(); i++) {
                CSVRecord record = csv.get(i);
                assertEquals(columns, record.size(), what + ": CSV line " + (i + 1));
                Row row = sheet.getRow(i);
                assertTrue(row != null && row.getLastCellNum() <= columns, what + ": row " + (i + 1) + " has no cells past the header's");
                for (int c = 0; c < columns; c++) {
                    String expected = record.get(c);
                    String where = what + " " + sheet.getRow(0).getCell(c).getStringCellValue() + " row " + (i + 1);
                    Cell cell = row.getCell(c);
                    CellType type = cell == null ? CellType.BLANK : cell.getCellType();
                    switch (type) {
                        case BLANK -> assertEquals("", expected, where + ": empty in the spreadsheet");
                        // Calc stores every line break in a cell as LF (a CSV CRLF or lone CR inside quotes too).
                        case STRING -> assertEquals(lf(expected), cell.getStringCellValue(), where);
                        case NUMERIC -> {
                            double want = Double.parseDouble(expected);
                            double got = cell.getNumericCellValue();
                            assertEquals(want, got, 1e-12 * Math.max(1, Math.abs(want)), where + ": " + expected);
                        }
                        default -> fail(where + ": " + type + " cell (" + cell + ") for CSV cell " + expected);
                    }
                    if (i > 0 && expected.startsWith("'")) {
                        prefixed++;
                        assertTrue("=+-@\t\r".indexOf(expected.charAt(1)) >= 0, where + ": only formula-looking cells get the prefix");
                    }
                    if (i == 0) {
                        assertEquals(CellType.STRING, type, where + ": header");
                    }
                }
            }
        }
        return prefixed;
    }

    /** Converts the CSVs to xlsx in {@code dir} with one soffice run and a profile of its own. */
    private void convert(String soffice, Path dir, Path... csvs) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "lo-profile-");
        List<String> cmd = new ArrayList<>(List.of(soffice, "--headless", "--norestore", "--nolockcheck",
                "-env:UserInstallation=" + profile.toUri(), "--infilter=" + CSV_IMPORT, "--convert-to", "xlsx",
                "--outdir", dir.toString()));
        for (Path csv : csvs) {
            cmd.add(csv.toString());
        }
        Path log = tmp.resolve("soffice.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("soffice did not finish in 120 s: " + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        for (Path csv : csvs) {
            String name = csv.getFileName().toString().replaceFirst("\\.csv$", ".xlsx");
            assertTrue(Files.isRegularFile(dir.resolve(name)), "soffice wrote no " + name + ": " + Files.readString(log));
        }
    }

    private static String lf(String s) {
        return s.replace("\r\n", "\n").replace('\r', '\n');
    }

    private static Workbook open(Path xlsx) throws Exception {
        try (InputStream s = Files.newInputStream(xlsx)) {
            return new XSSFWorkbook(s);
        }
    }

    /** Every line of the CSV, the header first. */
    private static List<CSVRecord> read(Path csv) throws Exception {
        try (CSVParser parser = CSVParser.parse(csv, StandardCharsets.UTF_8, CSVFormat.RFC4180)) {
            return new ArrayList<>(parser.getRecords());
        }
    }

    private static String name(String imagePath) {
        return imagePath.substring(imagePath.lastIndexOf('/') + 1);
    }

    private static String findSoffice() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String exe : List.of("soffice", "libreoffice")) {
                File f = new File(dir, exe);
                if (f.isFile() && f.canExecute()) {
                    return f.getAbsolutePath();
                }
            }
        }
        return null;
    }
}
