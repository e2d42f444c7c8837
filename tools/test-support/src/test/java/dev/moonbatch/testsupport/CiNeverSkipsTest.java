package dev.moonbatch.testsupport;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CiNeverSkipsTest {
    private final TestAbortedException skip = new TestAbortedException("Assumption failed: chromium not installed");

    @Test
    void underCiASkipIsAFailureNamingWhy() {
        Throwable t = new CiNeverSkips(true).failUnderCi(skip);
        assertInstanceOf(AssertionError.class, t);
        assertTrue(t.getMessage().contains("chromium not installed"), t.getMessage());
        AssertionError fromBeforeAll = assertThrows(AssertionError.class,
                () -> new CiNeverSkips(true).handleBeforeAllMethodExecutionException(null, skip));
        assertSame(skip, fromBeforeAll.getCause());
    }

    @Test
    void elsewhereASkipStaysASkipAndFailuresPassThrough() {
        assertSame(skip, new CiNeverSkips(false).failUnderCi(skip));
        IllegalStateException other = new IllegalStateException("boom");
        assertSame(other, new CiNeverSkips(true).failUnderCi(other));
    }

    @Test
    void registeredForEveryTestByAutoDetection() throws Exception {
        var props = new java.util.Properties();
        try (var in = CiNeverSkips.class.getResourceAsStream("/junit-platform.properties")) {
            props.load(in);
        }
        assertTrue(Boolean.parseBoolean(props.getProperty("junit.jupiter.extensions.autodetection.enabled")));
        try (var in = CiNeverSkips.class.getResourceAsStream("/META-INF/services/org.junit.jupiter.api.extension.Extension")) {
            assertTrue(new String(in.readAllBytes()).strip().equals(CiNeverSkips.class.getName()));
        }
    }
}
