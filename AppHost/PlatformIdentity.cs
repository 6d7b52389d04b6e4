namespace AgentPlatform.AppHost;

/// <summary>
/// What the services need to issue and validate the platform's tokens: the public issuer (the gateway's
/// address), the key that encrypts secrets at rest (signing keys, provider credentials), the bootstrap
/// admin's password, and the secrets of the platform services' own clients (service tokens).
/// </summary>
internal sealed class PlatformIdentity
{
    /// <summary>AppHost parameter (<c>Parameters:admin-password</c>) with the bootstrap <c>admin</c>'s password.</summary>
    public const string AdminPasswordParameter = "admin-password";

    private readonly IDistributedApplicationBuilder builder;
    private readonly EndpointReference issuer;
    private readonly IResourceBuilder<ParameterResource> keyEncryptionKey;
    private readonly IResourceBuilder<ParameterResource>? adminPassword;
    private IResourceBuilder<ProjectResource>? authorizationServer;

    private PlatformIdentity(
        IDistributedApplicationBuilder builder,
        EndpointReference issuer,
        IResourceBuilder<ParameterResource> keyEncryptionKey,
        IResourceBuilder<ParameterResource>? adminPassword)
    {
        this.builder = builder;
        this.issuer = issuer;
        this.keyEncryptionKey = keyEncryptionKey;
        this.adminPassword = adminPassword;
    }

    public static PlatformIdentity Add(IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway)
    {
        // Generated once and kept in the AppHost's user secrets, so stored secrets stay readable across runs. The
        // parameter keeps its first name so developers' generated keys survive.
        var keyEncryptionKey = builder.AddResource(ParameterResourceBuilderExtensions.CreateGeneratedParameter(
            builder, "identity-key-encryption-key", secret: true, new GenerateParameterDefault { MinLength = 48, Special = false }));

        // Without the parameter the control plane generates a password and logs it once; deployments always
        // supply one.
        var adminPassword = builder.ExecutionContext.IsPublishMode || !string.IsNullOrEmpty(builder.Configuration[$"Parameters:{AdminPasswordParameter}"])
            ? builder.AddParameter(AdminPasswordParameter, secret: true)
            : null;

        return new PlatformIdentity(builder, gateway.GetEndpoint("http"), keyEncryptionKey, adminPassword);
    }

    /// <summary>Validates the platform's tokens: knows the issuer.</summary>
    public IResourceBuilder<ProjectResource> Validate(IResourceBuilder<ProjectResource> project) =>
        project.WithEnvironment("Authentication__Issuer", issuer);

    /// <summary>Reads secrets stored encrypted at rest (signing keys, provider credentials).</summary>
    public IResourceBuilder<ProjectResource> DecryptSecrets(IResourceBuilder<ProjectResource> project) =>
        project.WithEnvironment("Secrets__KeyEncryptionKey", keyEncryptionKey);

    /// <summary>Issues the platform's tokens: the control plane.</summary>
    public IResourceBuilder<ProjectResource> Issue(IResourceBuilder<ProjectResource> project)
    {
        authorizationServer = project;
        DecryptSecrets(Validate(project));
        if (adminPassword is not null)
        {
            project.WithEnvironment("Identity__BootstrapAdminPassword", adminPassword);
        }

        return project;
    }

    /// <summary>
    /// Gets service tokens for tenants (docs/decisions/0007-service-tokens.md): a platform service client named
    /// like the project, whose generated secret both the project and the control plane (<see cref="Issue"/>,
    /// called first) are given.
    /// </summary>
    public IResourceBuilder<ProjectResource> RequestServiceTokens(IResourceBuilder<ProjectResource> project)
    {
        if (authorizationServer is null)
        {
            throw new InvalidOperationException($"Call {nameof(Issue)} for the control plane before {nameof(RequestServiceTokens)}.");
        }

        // Generated once and kept in the AppHost's user secrets, like the key-encryption key.
        var clientId = project.Resource.Name;
        var secret = builder.AddResource(ParameterResourceBuilderExtensions.CreateGeneratedParameter(
            builder, $"{clientId}-service-client-secret", secret: true, new GenerateParameterDefault { MinLength = 48, Special = false }));
        authorizationServer.WithEnvironment($"Identity__ServiceClients__{clientId}__Secret", secret);
        return project
            .WithEnvironment("ServiceTokens__ClientId", clientId)
            .WithEnvironment("ServiceTokens__Secret", secret);
    }
}
