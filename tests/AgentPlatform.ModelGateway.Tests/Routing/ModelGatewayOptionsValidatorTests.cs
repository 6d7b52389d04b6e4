using AgentPlatform.ModelGateway.Routing;

namespace AgentPlatform.ModelGateway.Tests.Routing;

public sealed class ModelGatewayOptionsValidatorTests
{
    private readonly ModelGatewayOptionsValidator validator = new();

    [Fact]
    public void Allowed_private_networks_for_tenant_endpoints_are_CIDR_networks()
    {
        var options = new ModelGatewayOptions { TenantEndpoints = { AllowedPrivateNetworks = ["10.20.0.0/16", "fd00::/8", "10.1.2.3", "ollama.internal"] } };

        var result = validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
            [
                "ModelGateway:TenantEndpoints:AllowedPrivateNetworks has '10.1.2.3', which is not a network in CIDR notation (e.g. 10.20.0.0/16).",
                "ModelGateway:TenantEndpoints:AllowedPrivateNetworks has 'ollama.internal', which is not a network in CIDR notation (e.g. 10.20.0.0/16).",
            ],
            result.Failures);
    }

    [Fact]
    public void A_deployment_endpoint_must_be_an_absolute_http_url()
    {
        var options = new ModelGatewayOptions
        {
            Routes = { ["chat"] = new RouteOptions { Deployments = [new DeploymentOptions { Name = "a", Provider = "openai", Model = "m", Endpoint = "ftp://x" }] } },
        };

        var result = validator.Validate(null, options);

        Assert.Equal(["ModelGateway:Routes:chat:Deployments:0:Endpoint must be an absolute http(s) URL, not 'ftp://x'."], result.Failures);
        Assert.True(validator.Validate(null, new ModelGatewayOptions()).Succeeded);
    }
}
