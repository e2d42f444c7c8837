package dev.moonbatch.runtime.ocr;

/** The perspective transform taking four points onto four others (OpenCV's {@code getPerspectiveTransform}). */
final class Homography {
    private Homography() {
    }

    /** Row-major 3×3 matrix m (m[8] = 1) with m · (from[i], 1) ∝ (to[i], 1). */
    static double[] between(double[][] from, double[][] to) {
        double[][] a = new double[8][9];
        for (int i = 0; i < 4; i++) {
            double x = from[i][0];
            double y = from[i][1];
            double u = to[i][0];
            double v = to[i][1];
            a[i] = new double[] {x, y, 1, 0, 0, 0, -x * u, -y * u, u};
            a[i + 4] = new double[] {0, 0, 0, x, y, 1, -x * v, -y * v, v};
        }
        double[] h = solve(a);
        return new double[] {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1};
    }

    /** Gaussian elimination with partial pivoting of an 8×8 system given as [A | b]. */
    private static double[] solve(double[][] a) {
        int n = 8;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            double d = a[col][col];
            if (Math.abs(d) < 1e-12) {
                throw new IllegalArgumentException("degenerate text box");
            }
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = a[r][col] / d;
                    for (int c = col; c <= n; c++) {
                        a[r][c] -= f * a[col][c];
                    }
                }
            }
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = a[i][n] / a[i][i];
        }
        return x;
    }
}
