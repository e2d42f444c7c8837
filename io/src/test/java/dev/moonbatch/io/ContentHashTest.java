package dev.moonbatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ContentHashTest {
    @Test
    void knownVectors() {
        // FIPS 180-2 test vector and the empty input
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                ContentHash.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ContentHash.sha256Hex(new byte[0]));
    }

    @Test
    void oneBitChangesTheHash() {
        assertNotEquals(ContentHash.sha256Hex(new byte[] {0}), ContentHash.sha256Hex(new byte[] {1}));
    }
}
