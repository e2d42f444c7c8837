package dev.moonbatch.runtime.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** PilResize against Pillow's own output (tools/fixtures/make_pil_resize_cases.py), extreme aspect ratios included. */
class PilResizeTest {
    @Test
    void matchesPillowBitForBit() throws Exception {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/pil-resize/cases.json")) {
            cases = new ObjectMapper().readTree(in);
        }
        assertEquals(12, cases.size());
        for (JsonNode c : cases) {
            int[] input = toInts(c.get("input"));
            int[] expected = toInts(c.get("expected"));
            int[] actual = PilResize.resize(input, c.get("w").asInt(), c.get("h").asInt(),
                    c.get("outW").asInt(), c.get("outH").asInt(), c.get("resample").asInt());
            assertArrayEquals(expected, actual, "case " + c.get("w") + "x" + c.get("h") + " -> "
                    + c.get("outW") + "x" + c.get("outH") + " resample " + c.get("resample"));
        }
    }

    private static int[] toInts(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
