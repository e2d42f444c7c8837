package dev.moonbatch.runtime.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;

/** Small tensor helpers the generation loop needs, independent of dtype. */
public final class Tensors {
    private Tensors() {
    }

    public static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment();
    }

    public static OnnxTensor longs(long[][] rows) throws OrtException {
        int n = rows.length;
        int len = rows[0].length;
        LongBuffer buffer = LongBuffer.allocate(n * len);
        for (long[] row : rows) {
            if (row.length != len) {
                throw new IllegalArgumentException("rows of unequal length: " + row.length + " vs " + len);
            }
            buffer.put(row);
        }
        return OnnxTensor.createTensor(env(), buffer.flip(), new long[] {n, len});
    }

    /** An int64 [rows, len] attention mask with nothing masked. */
    public static OnnxTensor ones(int rows, int len) throws OrtException {
        return filled(rows, len, -1);
    }

    /** int64 [rows, len] position ids counting up from {@code start} in every row. */
    public static OnnxTensor positions(int rows, int len, long start) throws OrtException {
        return filled(rows, len, start);
    }

    private static OnnxTensor filled(int rows, int len, long start) throws OrtException {
        long[][] m = new long[rows][len];
        for (long[] row : m) {
            for (int i = 0; i < len; i++) {
                row[i] = start < 0 ? 1 : start + i;
            }
        }
        return longs(m);
    }

    /** int64 [rows, total] attention mask: row r's first {@code padding[r]} columns 0, the rest 1. */
    public static OnnxTensor leftPaddedMask(int[] padding, int total) throws OrtException {
        long[][] m = new long[padding.length][total];
        for (int r = 0; r < padding.length; r++) {
            java.util.Arrays.fill(m[r], Math.min(padding[r], total), total, 1L);
        }
        return longs(m);
    }

    /**
     * int64 [rows, len] position ids of columns {@code pastLength .. pastLength+len-1} of left-padded
     * rows: a real column's position counts the row's real columns before it; a padding column gets 1
     * (transformers.js's {@code cumsum_masked_fill}).
     */
    public static OnnxTensor leftPaddedPositions(int[] padding, int len, int pastLength) throws OrtException {
        long[][] m = new long[padding.length][len];
        for (int r = 0; r < padding.length; r++) {
            for (int i = 0; i < len; i++) {
                int column = pastLength + i;
                m[r][i] = column < padding[r] ? 1 : column - padding[r];
            }
        }
        return longs(m);
    }

    /**
     * The axis of a past key/value input that grows with the sequence: its first dynamic axis that
     * is not the batch (named {@code past_sequence_length} in Optimum exports); 2 if none is dynamic.
     */
    public static int sequenceAxis(NodeInfo pastInput) {
        TensorInfo info = (TensorInfo) pastInput.getInfo();
        long[] shape = info.getShape();
        String[] names = info.getDimensionNames();
        for (int i = 1; i < shape.length; i++) {
            String name = names != null && i < names.length ? names[i] : "";
            if (shape[i] < 0 && !name.contains("batch")) {
                return i;
            }
        }
        return 2;
    }

    /**
     * One cache tensor for a whole batch from the caches of several prefill calls of different
     * sequence lengths: {@code parts.get(c)} holds rows {@code rowsOf.get(c)} of the batch; each row
     * is right-aligned on {@code seqAxis} to {@code length}, zeros on its left (masked padding).
     * Byte-wise, so any dtype (float16 caches included).
     */
    public static OnnxTensor leftPaddedRows(List<OnnxTensor> parts, List<int[]> rowsOf, int rows, int length,
                                            int seqAxis) throws OrtException {
        TensorInfo first = parts.get(0).getInfo();
        long[] shape = first.getShape().clone();
        long outer = 1;
        for (int i = 1; i < seqAxis; i++) {
            outer *= shape[i];
        }
        long inner = 1;
        for (int i = seqAxis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int elementBytes = first.type.size;
        long rowBytes = outer * length * inner * elementBytes;
        ByteBuffer dst = ByteBuffer.allocateDirect(Math.toIntExact(rowBytes * rows)).order(ByteOrder.nativeOrder());
        for (int c = 0; c < parts.size(); c++) {
            OnnxTensor part = parts.get(c);
            long partLength = part.getInfo().getShape()[seqAxis];
            ByteBuffer src = part.getByteBuffer().order(ByteOrder.nativeOrder());
            int run = Math.toIntExact(partLength * inner * elementBytes);
            int[] targets = rowsOf.get(c);
            for (int i = 0; i < targets.length; i++) {
                for (long o = 0; o < outer; o++) {
                    int from = Math.toIntExact((i * outer + o) * run);
                    long to = targets[i] * rowBytes + (o * length + (length - partLength)) * inner * elementBytes;
                    ByteBuffer slice = src.duplicate();
                    slice.position(from).limit(from + run);
                    dst.position(Math.toIntExact(to));
                    dst.put(slice);
                }
            }
        }
        dst.rewind();
        shape[0] = rows;
        shape[seqAxis] = length;
        return OnnxTensor.createTensor(env(), dst, shape, first.type);
    }

    /**
     * A float tensor of element type {@code type}: float32 as is, float16 / bfloat16 converted.
     * Families do not call this with a type of their own: {@link DeclaredInputs} picks the type a
     * session declares.
     */
    static OnnxTensor floats(OnnxJavaType type, FloatBuffer data, long... shape) throws OrtException {
        return switch (type) {
            case FLOAT -> floats(data, shape);
            case FLOAT16 -> OnnxTensor.createTensor(env(), Fp16Conversions.convertFloatBufferToFp16Buffer(data), shape,
                    OnnxJavaType.FLOAT16);
            case BFLOAT16 -> OnnxTensor.createTensor(env(), Fp16Conversions.convertFloatBufferToBf16Buffer(data), shape,
                    OnnxJavaType.BFLOAT16);
            default -> throw new IllegalArgumentException("cannot feed float values to an input of type " + type);
        };
    }

    static boolean isFloat(OnnxJavaType type) {
        return type == OnnxJavaType.FLOAT || type == OnnxJavaType.FLOAT16 || type == OnnxJavaType.BFLOAT16;
    }

    /** A float32, float16 or bfloat16 tensor's values as float32 (an fp16 export's outputs are float16). */
    public static float[] floatArray(OnnxTensor tensor) {
        if (!isFloat(tensor.getInfo().type)) {
            throw new IllegalArgumentException("expected a float tensor but got " + tensor.getInfo().type);
        }
        FloatBuffer buffer = tensor.getFloatBuffer();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    public static OnnxTensor floats(FloatBuffer data, long... shape) throws OrtException {
        return OnnxTensor.createTensor(env(), data, shape);
    }

    public static OnnxTensor bool(boolean value) throws OrtException {
        return OnnxTensor.createTensor(env(), new boolean[] {value});
    }

    /**
     * An empty past (sequence length 0) for the first step, shaped from the session's own input
     * metadata: dynamic batch dimensions get {@code batch}, other dynamic ones 0, fixed ones stay.
     */
    public static OnnxTensor emptyPast(NodeInfo input, int batch) throws OrtException {
        TensorInfo info = (TensorInfo) input.getInfo();
        long[] shape = info.getShape().clone();
        String[] names = info.getDimensionNames();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                String name = names != null && i < names.length ? names[i] : "";
                shape[i] = (i == 0 || name.contains("batch")) ? batch : 0;
            }
        }
        ByteBuffer empty = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());
        return OnnxTensor.createTensor(env(), empty, shape, info.type);
    }

    /**
     * Rows of a tensor along its first (batch) dimension, in the given order; rows may repeat
     * (beam search) or be left out (finished sequences).
     */
    public static OnnxTensor gatherRows(OnnxTensor tensor, int[] rows) throws OrtException {
        TensorInfo info = tensor.getInfo();
        long[] shape = info.getShape().clone();
        ByteBuffer src = tensor.getByteBuffer().order(ByteOrder.nativeOrder());
        int rowBytes = shape[0] == 0 ? 0 : (int) (src.capacity() / shape[0]);
        ByteBuffer dst = ByteBuffer.allocateDirect(rowBytes * rows.length).order(ByteOrder.nativeOrder());
        for (int row : rows) {
            ByteBuffer slice = src.duplicate();
            slice.position(row * rowBytes).limit((row + 1) * rowBytes);
            dst.put(slice);
        }
        dst.flip();
        shape[0] = rows.length;
        return OnnxTensor.createTensor(env(), dst, shape, info.type);
    }

    /** The last position's logits of each row of a [batch, seq, vocab] tensor, as floats. */
    public static float[][] lastLogits(OnnxTensor logits) {
        long[] shape = logits.getInfo().getShape();
        int batch = (int) shape[0];
        int seq = (int) shape[1];
        int vocab = (int) shape[2];
        FloatBuffer all = logits.getFloatBuffer();
        float[][] out = new float[batch][vocab];
        for (int b = 0; b < batch; b++) {
            all.position((b * seq + seq - 1) * vocab);
            all.get(out[b]);
        }
        return out;
    }

    /** Every position's logits of a [batch, seq, vocab] tensor, as floats: [batch][seq][vocab]. */
    public static float[][][] allLogits(OnnxTensor logits) {
        long[] shape = logits.getInfo().getShape();
        FloatBuffer all = logits.getFloatBuffer();
        float[][][] out = new float[(int) shape[0]][(int) shape[1]][(int) shape[2]];
        for (float[][] row : out) {
            for (float[] position : row) {
                all.get(position);
            }
        }
        return out;
    }
}
