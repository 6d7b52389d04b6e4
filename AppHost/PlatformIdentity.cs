namespace AgentPlatform.AppHost;

/// <summary>
/// What the services need to issue and validate the platform's tokens: the public issuer (the gateway's
/// address), the key that encrypts secrets at rest (signing keys, provider credentials), and the bootstrap
/// admin's password.
/// </summary>
internal sealed class PlatformIdentity
{
    /// <summary>AppHost parameter (<c>Parameters:admin-password</c>) with the bootstrap <c>admin</c>'s password.</summary>
    public const string AdminPasswordParameter = "admin-password";

    private readonly EndpointReference issuer;
    private readonly IResourceBuilder<ParameterResource> keyEncryptionKey;
    private readonly IResourceBuilder<ParameterResource>? adminPassword;

    private PlatformIdentity(EndpointReference issuer, IResourceBuilder<ParameterResource> keyEncryptionKey, IResourceBuilder<ParameterResource>? adminPassword)
    {
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

        return new PlatformIdentity(gateway.GetEndpoint("http"), keyEncryptionKey, adminPassword);
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
        DecryptSecrets(Validate(project));
        if (adminPassword is not null)
        {
            project.WithEnvironment("Identity__BootstrapAdminPassword", adminPassword);
        }

        return project;
    }
}
