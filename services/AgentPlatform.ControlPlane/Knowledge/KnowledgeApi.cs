using System.Security.Cryptography;
using System.Text;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AgentPlatform.ControlPlane.Knowledge;

/// <summary>
/// The tenant's knowledge documents, which the retrieval sub-agent searches: add one (its text inline, or by claim
/// check when it is large), list, read and delete. A document is added <c>pending</c>; a Worker indexes it
/// asynchronously (chunks, embeddings) and its status shows how far that got.
/// </summary>
public static class KnowledgeApi
{
    /// <summary>The largest text a document may have, in UTF-8 bytes.</summary>
    public const int MaxContentBytes = 10 * 1024 * 1024;

    public const string PlainText = "text/plain";
    public const string Markdown = "text/markdown";

    private const int MaxReferenceLength = 100;

    private static readonly string[] ContentTypes = [PlainText, Markdown];

    // Strict: text that is not UTF-8 is refused rather than silently repaired.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEndpointRouteBuilder MapKnowledgeApi(this IEndpointRouteBuilder endpoints)
    {
        // Ids are plain route values so a malformed one answers 400 rather than falling through to 404.
        var documents = endpoints.MapGroup("/api/knowledge/documents").WithTags("Knowledge");
        documents.MapPost("/", AddAsync).RequirePermission(Permissions.ConfigurationWrite);
        documents.MapGet("/", ListAsync).RequirePermission(Permissions.ConfigurationRead);
        documents.MapGet("/{id}", GetAsync).RequirePermission(Permissions.ConfigurationRead);
        documents.MapDelete("/{id}", DeleteAsync).RequirePermission(Permissions.ConfigurationWrite);
        return endpoints;
    }

    /// <summary>
    /// Adds a document, <c>pending</c>. Text above the claim-check threshold is stored in the payload store (kept for
    /// the longest time to live it allows, so it outlives any indexing retry); a referenced payload is copied to such a
    /// reference of the document's own, so the client's reference may expire.
    /// </summary>
    public static async Task<Results<Created<KnowledgeDocumentResponse>, ValidationProblem, ProblemHttpResult>> AddAsync(
        AddKnowledgeDocumentRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        IPayloadStore payloads,
        AuditTrail auditTrail,
        IOptions<ClaimCheckOptions> claimCheck,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var title = request.Title?.Trim();
        if (string.IsNullOrEmpty(title))
        {
            errors["title"] = ["A document needs a title."];
        }
        else if (title.Length > KnowledgeDocument.MaxTitleLength || title.Any(char.IsControl))
        {
            errors["title"] = [$"The title is at most {KnowledgeDocument.MaxTitleLength} characters, without control characters."];
        }

        var source = string.IsNullOrWhiteSpace(request.Source) ? null : request.Source.Trim();
        if (source is not null && (source.Length > KnowledgeDocument.MaxSourceLength || source.Any(char.IsControl)))
        {
            errors["source"] = [$"The source (a URI or a label) is at most {KnowledgeDocument.MaxSourceLength} characters, without control characters."];
        }

        string? requestedType = null;
        if (request.ContentType is not null && (requestedType = ContentTypeOf(request.ContentType)) is null)
        {
            errors["content_type"] = [$"The content type is {string.Join(" or ", ContentTypes)}."];
        }

        if ((request.Content is null) == (request.ContentRefId is null))
        {
            errors["content"] = [request.Content is null
                ? "Send the document's text in content, or a claim-check reference to it in content_ref_id."
                : "Send either content or content_ref_id, not both."];
        }
        else if (request.Content is { } content && ValidateText(content) is { } contentError)
        {
            errors["content"] = [contentError];
        }
        else if (request.ContentRefId is { } reference && (reference.Length is 0 or > MaxReferenceLength || !reference.All(c => c is >= ' ' and <= '~')))
        {
            errors["content_ref_id"] = ["This is not a claim-check reference id."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        string text;
        string contentType;
        if (request.ContentRefId is { } referenceId)
        {
            var (referenced, referencedType, referenceError) = await ReadReferenceAsync(payloads, referenceId, cancellationToken);
            if (referenceError is not null)
            {
                return Problems.Invalid("content_ref_id", referenceError);
            }

            (text, contentType) = (referenced!, requestedType ?? referencedType!);
        }
        else
        {
            (text, contentType) = (request.Content!, requestedType ?? Markdown);
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        string? inline = text;
        string? contentRefId = null;
        if (bytes.Length > claimCheck.Value.InlineThresholdBytes)
        {
            // Before the document is added: the payload store saves the unit of work it shares with this request.
            using var stream = new MemoryStream(bytes, writable: false);
            contentRefId = (await payloads.PutAsync(stream, contentType, claimCheck.Value.MaxTimeToLive, cancellationToken)).Id;
            inline = null;
        }

        var now = Now(timeProvider);
        var document = new KnowledgeDocument
        {
            Id = Guid.CreateVersion7(now),
            TenantId = context.User.GetTenantId()!,
            Title = title!,
            Source = source,
            ContentType = contentType,
            Size = bytes.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Content = inline,
            ContentRefId = contentRefId,
            Status = KnowledgeDocumentStatuses.Pending,
            CreatedBy = context.User.GetSubject()!,
            ChargedUserId = context.User.GetChargedUserId(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.KnowledgeDocuments.Add(document);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("knowledge-document.added", "knowledge-document", document.Id.ToString()) { After = Audited(document) }, cancellationToken);
        return TypedResults.Created($"/api/knowledge/documents/{document.Id}", KnowledgeDocumentResponse.From(document));
    }

    /// <summary>Newest first.</summary>
    public static async Task<Results<Ok<PagedResult<KnowledgeDocumentResponse>>, ValidationProblem>> ListAsync(
        [AsParameters] PageQuery page, [AsParameters] KnowledgeDocumentQuery query, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var documents = db.KnowledgeDocuments.AsNoTracking();
        var statuses = (query.Status ?? [])
            .SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (statuses.Count > 0)
        {
            if (statuses.Any(s => !KnowledgeDocumentStatuses.All.Contains(s, StringComparer.Ordinal)))
            {
                return Problems.Invalid("status", $"The status is one of {string.Join(", ", KnowledgeDocumentStatuses.All)}.");
            }

            documents = documents.Where(d => statuses.Contains(d.Status));
        }

        return TypedResults.Ok(await documents.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .ToPagedResultAsync(page, KnowledgeDocumentResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<KnowledgeDocumentResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string id, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var documentId))
        {
            return InvalidId();
        }

        var document = await db.KnowledgeDocuments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == documentId, cancellationToken);
        return document is null ? Problems.NotFound("The knowledge document") : TypedResults.Ok(KnowledgeDocumentResponse.From(document));
    }

    /// <summary>
    /// Deletes the document and, through the foreign key's cascade, its chunks, in one statement: a search never sees
    /// half a document. A Worker indexing it at the time finds it gone and stores nothing. Its claim-check payload,
    /// if any, expires on its own.
    /// </summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        string id, AgentPlatformDbContext db, AuditTrail auditTrail, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var documentId))
        {
            return InvalidId();
        }

        var document = await db.KnowledgeDocuments.SingleOrDefaultAsync(d => d.Id == documentId, cancellationToken);
        if (document is null)
        {
            return Problems.NotFound("The knowledge document");
        }

        var before = Audited(document);
        db.KnowledgeDocuments.Remove(document);
        try
        {
            await auditTrail.SaveChangesAsync(
                new AuditEntry("knowledge-document.deleted", "knowledge-document", document.Id.ToString()) { Before = before }, cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // A concurrent delete removed it first: the outcome the caller asked for.
            return Problems.NotFound("The knowledge document");
        }

        return TypedResults.NoContent();
    }

    /// <summary>The text of a referenced payload and its content type, or why it cannot be a document.</summary>
    private static async Task<(string? Text, string? ContentType, string? Error)> ReadReferenceAsync(
        IPayloadStore payloads, string referenceId, CancellationToken cancellationToken)
    {
        await using var payload = await payloads.OpenReadAsync(referenceId, cancellationToken);
        if (payload is null)
        {
            return (null, null, "There is no claim-check payload with this id in your tenant, or it has expired.");
        }

        if (ContentTypeOf(payload.Reference.ContentType) is not { } contentType)
        {
            return (null, null, $"The payload is '{payload.Reference.ContentType}'; a knowledge document is {string.Join(" or ", ContentTypes)}.");
        }

        if (payload.Reference.Size > MaxContentBytes)
        {
            return (null, null, $"The payload has {payload.Reference.Size} bytes; a document has at most {MaxContentBytes}.");
        }

        using var buffer = new MemoryStream((int)payload.Reference.Size);
        await payload.Content.CopyToAsync(buffer, cancellationToken);
        string text;
        try
        {
            text = StrictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            return (null, null, "The payload is not UTF-8 text.");
        }

        return ValidateText(text) is { } error ? (null, null, $"The payload's text is not usable: {error}") : (text, contentType, null);
    }

    private static string? ValidateText(string text) =>
        string.IsNullOrWhiteSpace(text) ? "The document has no text."
        : text.Contains('\0', StringComparison.Ordinal) ? "The text cannot contain NUL characters."
        : Encoding.UTF8.GetByteCount(text) > MaxContentBytes ? $"The text is at most {MaxContentBytes} bytes in UTF-8."
        : null;

    /// <summary>A media type as a document content type (parameters such as charset dropped), or null when it is not one.</summary>
    private static string? ContentTypeOf(string value)
    {
        if (!MediaTypeHeaderValue.TryParse(value, out var mediaType))
        {
            return null;
        }

        var type = mediaType.MediaType.Value?.ToLowerInvariant();
        return type == "text/x-markdown" ? Markdown : ContentTypes.FirstOrDefault(t => t == type);
    }

    // PostgreSQL keeps microseconds: what a write returns must equal what a later read returns.
    private static DateTime Now(TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
    }

    private static ValidationProblem InvalidId() => Problems.Invalid("id", "A document id is a GUID (the document_id adding it returned).");


    // What the audit digests cover: the document's identity and its text's digest, never the text itself.
    private static object Audited(KnowledgeDocument document) => new
    {
        document.Title,
        document.Source,
        document.ContentType,
        document.Size,
        document.Sha256,
        document.ContentRefId,
        document.Status,
    };
}
