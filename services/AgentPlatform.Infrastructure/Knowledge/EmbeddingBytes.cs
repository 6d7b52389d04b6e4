using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>
/// Embeddings as bytes (little-endian IEEE 754 singles, the same on every machine and database) and the cosine
/// similarity the knowledge search ranks by.
/// </summary>
public static class EmbeddingBytes
{
    public static byte[] Encode(ReadOnlySpan<float> vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }
        }

        return bytes;
    }

    public static float[] Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new ArgumentException($"An embedding is a whole number of {sizeof(float)}-byte floats, not {bytes.Length} bytes.", nameof(bytes));
        }

        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        }

        var vector = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        }

        return vector;
    }

    /// <summary>
    /// The cosine similarity of <paramref name="query"/> and an encoded vector of the same length, in [-1, 1]; 0 when
    /// either has no length. Reads the bytes in place on little-endian machines (no copy per compared vector).
    /// </summary>
    public static double CosineSimilarity(ReadOnlySpan<float> query, double queryNorm, byte[] encoded)
    {
        ReadOnlySpan<float> other = BitConverter.IsLittleEndian && encoded.Length % sizeof(float) == 0
            ? MemoryMarshal.Cast<byte, float>(encoded)
            : Decode(encoded);
        if (other.Length != query.Length)
        {
            throw new ArgumentException($"The vectors differ in length ({query.Length} and {other.Length}).", nameof(encoded));
        }

        var (dot, norm) = DotAndSquaredNorm(query, other);
        var denominator = queryNorm * Math.Sqrt(norm);
        return denominator == 0 ? 0 : dot / denominator;
    }

    /// <summary>The Euclidean norm of <paramref name="vector"/>.</summary>
    public static double Norm(ReadOnlySpan<float> vector) => Math.Sqrt(DotAndSquaredNorm(vector, vector).Dot);

    private static (double Dot, double SquaredNorm) DotAndSquaredNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var dot = Vector<float>.Zero;
        var norm = Vector<float>.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (; i < va.Length; i++)
            {
                dot += va[i] * vb[i];
                norm += vb[i] * vb[i];
            }

            i *= Vector<float>.Count;
        }

        double dotSum = Vector.Sum(dot);
        double normSum = Vector.Sum(norm);
        for (; i < a.Length; i++)
        {
            dotSum += a[i] * b[i];
            normSum += b[i] * b[i];
        }

        return (dotSum, normSum);
    }
}
