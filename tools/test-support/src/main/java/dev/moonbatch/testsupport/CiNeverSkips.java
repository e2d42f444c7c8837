package dev.moonbatch.testsupport;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * Registered for every test by JUnit's extension auto-detection ({@code junit-platform.properties}
 * of this jar): under {@code CI=true} an aborted assumption, in a test or in a {@code @BeforeAll} /
 * {@code @BeforeEach}, becomes a failure carrying the assumption's message. Outside CI a developer
 * without Chromium or node still gets a skip. One place for the rule, so no test can forget it.
 */
public final class CiNeverSkips implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
    private final boolean underCi;

    /** As JUnit creates it: {@code CI=true} in the environment decides. */
    public CiNeverSkips() {
        this("true".equals(System.getenv("CI")));
    }

    CiNeverSkips(boolean underCi) {
        this.underCi = underCi;
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw failUnderCi(throwable);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw failUnderCi(throwable);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw failUnderCi(throwable);
    }

    Throwable failUnderCi(Throwable throwable) {
        if (underCi && throwable instanceof TestAbortedException) {
            return new AssertionError("CI=true: this test may not be skipped: " + throwable.getMessage(), throwable);
        }
        return throwable;
    }
}
