using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Secrets;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Models;

/// <summary>
/// The tenant's provider API keys. A secret is write-only: stored encrypted (purpose
/// <see cref="SecretPurposes.ProviderCredential"/>, the credential id as associated data), never returned, only
/// its last characters as a hint. The model gateway decrypts it with the same key-encryption key.
/// </summary>
public static class ProviderCredentialsApi
{
    public static IEndpointRouteBuilder MapProviderCredentialsApi(this IEndpointRouteBuilder endpoints)
    {
        var credentials = endpoints.MapGroup("/api/provider-credentials").WithTags("Model routes").RequirePermission(Permissions.ModelsManage);
        credentials.MapGet("/", ListAsync);
        credentials.MapGet("/{id:guid}", GetAsync);
        credentials.MapPost("/", CreateAsync);
        credentials.MapPut("/{id:guid}/secret", RotateAsync);
        credentials.MapDelete("/{id:guid}", DeleteAsync);
        return endpoints;
    }

    public static async Task<Ok<PagedResult<ProviderCredentialResponse>>> ListAsync(
        [AsParameters] PageQuery page, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.ProviderCredentials.AsNoTracking().OrderBy(c => c.Name).ThenBy(c => c.Id)
            .ToPagedResultAsync(page, ProviderCredentialResponse.From, cancellationToken));

    public static async Task<Results<Ok<ProviderCredentialResponse>, ProblemHttpResult>> GetAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.ProviderCredentials.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } credential
            ? TypedResults.Ok(ProviderCredentialResponse.From(credential))
            : Problems.NotFound("The provider credential");

    public static async Task<Results<Created<ProviderCredentialResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateProviderCredentialRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        SecretProtector protector,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var name = request.Name.Trim();
        if (name.Length == 0)
        {
            return Problems.Invalid(nameof(request.Name), "The name must not be blank.");
        }

        if (await db.ProviderCredentials.AnyAsync(c => c.Name == name, cancellationToken))
        {
            return Problems.Conflict($"A provider credential named '{name}' exists already.");
        }

        var now = timeProvider.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var credential = new ProviderCredential
        {
            Id = id,
            TenantId = context.User.GetTenantId()!,
            Name = name,
            EncryptedSecret = protector.ProtectString(SecretPurposes.ProviderCredential, id.ToString(), request.Secret),
            Hint = ProviderCredentials.Hint(request.Secret),
            CreatedBy = context.User.GetSubject()!,
            CreatedAt = now.UtcDateTime,
            UpdatedAt = now.UtcDateTime,
        };
        db.ProviderCredentials.Add(credential);
        try
        {
            await auditTrail.SaveChangesAsync(
                new AuditEntry("provider-credential.created", "provider-credential", id.ToString()) { After = Audited(credential) }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent request took the name between the check and the insert (the unique index caught it).
            if (await db.ProviderCredentials.AsNoTracking().AnyAsync(c => c.Name == name && c.Id != id, cancellationToken))
            {
                return Problems.Conflict($"A provider credential named '{name}' exists already.");
            }

            throw;
        }

        return TypedResults.Created($"/api/provider-credentials/{id}", ProviderCredentialResponse.From(credential));
    }

    public static async Task<Results<Ok<ProviderCredentialResponse>, ProblemHttpResult>> RotateAsync(
        Guid id,
        RotateProviderCredentialRequest request,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        SecretProtector protector,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var credential = await db.ProviderCredentials.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (credential is null)
        {
            return Problems.NotFound("The provider credential");
        }

        var before = Audited(credential);
        credential.EncryptedSecret = protector.ProtectString(SecretPurposes.ProviderCredential, id.ToString(), request.Secret);
        credential.Hint = ProviderCredentials.Hint(request.Secret);
        credential.UpdatedAt = timeProvider.GetUtcNow().UtcDateTime;
        await auditTrail.SaveChangesAsync(
            new AuditEntry("provider-credential.rotated", "provider-credential", id.ToString()) { Before = before, After = Audited(credential) }, cancellationToken);
        return TypedResults.Ok(ProviderCredentialResponse.From(credential));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, AgentPlatformDbContext db, AuditTrail auditTrail, CancellationToken cancellationToken)
    {
        var credential = await db.ProviderCredentials.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (credential is null)
        {
            return Problems.NotFound("The provider credential");
        }

        var routes = await db.ModelRoutes.AsNoTracking()
            .Where(r => r.Deployments.Any(d => d.CredentialId == id))
            .OrderBy(r => r.Alias)
            .Select(r => r.Alias)
            .ToListAsync(cancellationToken);
        if (routes.Count > 0)
        {
            return Problems.Conflict(
                $"The provider credential '{credential.Name}' is used by the route(s) {string.Join(", ", routes.Select(r => $"'{r}'"))}. Change those deployments first.");
        }

        db.ProviderCredentials.Remove(credential);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("provider-credential.deleted", "provider-credential", id.ToString()) { Before = Audited(credential) }, cancellationToken);
        return TypedResults.NoContent();
    }

    // The audit records which credential changed and its hint, never the secret or its ciphertext.
    private static object Audited(ProviderCredential credential) => new { credential.Name, credential.Hint };
}
