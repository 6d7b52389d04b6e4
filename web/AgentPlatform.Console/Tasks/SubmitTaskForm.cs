using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using AgentPlatform.Console.Platform;

namespace AgentPlatform.Console.Tasks;

/// <summary>
/// The submit form's fields and rules (the control plane checks them again). The input is typed (<see cref="Text"/>)
/// or read from a file (<see cref="UseFile"/>); a file's text stays on the server and is never sent back to the page.
/// </summary>
public sealed class SubmitTaskForm : IValidatableObject
{
    public const string InputRequired = "Enter the task's input, or read it from a file.";

    public string? Text { get; set; }

    [Range(0, 9, ErrorMessage = "The priority is 0 (lowest) to 9 (highest).")]
    public int? Priority { get; set; }

    [Range(1, 10_000_000, ErrorMessage = "The token budget is 1 to 10,000,000 tokens.")]
    public int? TokenBudget { get; set; }

    /// <summary>The file the input was read from, if any.</summary>
    public string? FileName { get; private set; }

    public string? FileText { get; private set; }

    /// <summary>What is submitted: the file's text when a file was read, else the typed text.</summary>
    public string Input => FileText ?? Text ?? "";

    public void UseFile(string name, string text) => (FileName, FileText) = (name, text);

    public void ClearFile() => (FileName, FileText) = (null, null);

    public SubmitTaskRequest ToRequest() => new(Input, TokenBudget, Priority);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Input))
        {
            yield return new ValidationResult(InputRequired, [nameof(Text)]);
        }
    }
}

/// <summary>
/// One <c>Idempotency-Key</c> per submit attempt: the same key while the same request is sent again (a double click,
/// a retry after a lost answer), so the platform makes one task; a new key once the request changes, because the
/// same key with another body is refused (409).
/// </summary>
public sealed class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    private string? body;
    private string? key;

    public string For(SubmitTaskRequest request)
    {
        var json = JsonSerializer.Serialize(request, PlatformApi.Json);
        if (json != body || key is null)
        {
            body = json;
            key = Guid.NewGuid().ToString("N");
        }

        return key;
    }
}

/// <summary>Reads a task's input from an uploaded file: UTF-8 text up to a size limit.</summary>
public static class TaskInputFile
{
    /// <summary>Why a file of <paramref name="size"/> bytes cannot be the input, or null when it can.</summary>
    public static string? CheckSize(long size, long maxBytes) => size switch
    {
        0 => "The file is empty.",
        _ when size > maxBytes => $"The file has {FormatSize(size)}; a task's input can be at most {FormatSize(maxBytes)}.",
        _ => null,
    };

    /// <summary>The file's text, or why it cannot be the input (too large, not UTF-8 text, empty).</summary>
    public static async Task<(string? Text, string? Error)> ReadAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        if (CheckSize(buffer.Length, maxBytes) is { } sizeError)
        {
            return (null, sizeError);
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            return (null, "The file is not UTF-8 text.");
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return (null, "The file is not text.");
        }

        text = text.TrimStart('\uFEFF');
        return string.IsNullOrWhiteSpace(text) ? (null, "The file is empty.") : (text, null);
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024.0):0.#} MiB",
        >= 1024 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes} bytes",
    };
}
