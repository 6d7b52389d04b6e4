using AgentPlatform.Domain.Models;
using AgentPlatform.Console.Models;

namespace AgentPlatform.Console.Tests.Models;

public sealed class ModelRouteFormTests
{
    [Fact]
    public void A_complete_route_is_valid_and_becomes_the_apis_request()
    {
        var form = ModelRouteForm.New();
        form.Alias = " chat-fast ";
        form.Strategy = RouteStrategies.Weighted;
        form.Fallbacks = "default, offline";
        form.Deployments[0].Model = "gpt-4o-mini";
        form.Deployments[0].TimeoutSeconds = 45;
        form.Deployments[0].InputPrice = 0.15m;

        Assert.Empty(form.Validate());
        var request = form.ToRequest();
        Assert.Equal("chat-fast", request.Alias);
        Assert.Equal(["default", "offline"], request.Fallbacks);
        Assert.Null(request.Description);
        Assert.Equal(TimeSpan.FromSeconds(45), request.Deployments[0].Timeout);
        Assert.Equal(150_000, request.Deployments[0].InputPriceMicros);
    }

    [Theory]
    [InlineData("", "alias")]
    [InlineData("-starts-with-dash", "alias")]
    [InlineData("has space", "alias")]
    public void A_bad_alias_is_refused(string alias, string field)
    {
        var form = Valid();
        form.Alias = alias;

        Assert.Contains(field, form.Validate().Keys);
    }

    [Fact]
    public void A_route_cannot_fall_back_to_itself_or_list_a_fallback_twice()
    {
        var form = Valid();
        form.Fallbacks = "chat, default, default";

        var errors = form.Validate()["fallbacks"];

        Assert.Contains("A route cannot fall back to itself.", errors);
        Assert.Contains("A fallback is listed twice.", errors);
    }

    [Fact]
    public void A_route_needs_a_deployment_and_unique_deployment_names()
    {
        var form = Valid();
        form.Deployments.Clear();
        Assert.Equal(["A route needs at least one deployment."], form.Validate()["deployments"]);

        form.Deployments.Add(new DeploymentForm { Name = "a", Model = "m" });
        form.Deployments.Add(new DeploymentForm { Name = "a ", Model = "m" });
        Assert.Equal(["deployments[1].name"], form.Validate().Keys);
    }

    [Theory]
    [InlineData(nameof(DeploymentForm.Priority), "deployments[0].priority")]
    [InlineData(nameof(DeploymentForm.Weight), "deployments[0].weight")]
    [InlineData(nameof(DeploymentForm.TimeoutSeconds), "deployments[0].timeout")]
    [InlineData(nameof(DeploymentForm.MaxRetries), "deployments[0].maxRetries")]
    [InlineData(nameof(DeploymentForm.CooldownSeconds), "deployments[0].cooldown")]
    [InlineData(nameof(DeploymentForm.ContextWindow), "deployments[0].contextWindow")]
    [InlineData(nameof(DeploymentForm.InputPrice), "deployments[0].prices")]
    public void Deployment_settings_out_of_range_are_refused_with_the_apis_field_names(string setting, string field)
    {
        var form = Valid();
        var deployment = form.Deployments[0];
        switch (setting)
        {
            case nameof(DeploymentForm.Priority): deployment.Priority = 1001; break;
            case nameof(DeploymentForm.Weight): deployment.Weight = 0; break;
            case nameof(DeploymentForm.TimeoutSeconds): deployment.TimeoutSeconds = 601; break;
            case nameof(DeploymentForm.MaxRetries): deployment.MaxRetries = 6; break;
            case nameof(DeploymentForm.CooldownSeconds): deployment.CooldownSeconds = 0; break;
            case nameof(DeploymentForm.ContextWindow): deployment.ContextWindow = 0; break;
            case nameof(DeploymentForm.InputPrice): deployment.InputPrice = -1; break;
        }

        Assert.Equal([field], form.Validate().Keys);
    }

    [Theory]
    [InlineData(ModelProviders.AzureOpenAi, null, true)]
    [InlineData(ModelProviders.Ollama, "http://localhost:11434/v1", false)]
    [InlineData(ModelProviders.OpenAi, null, false)]
    [InlineData(ModelProviders.OpenAi, "ftp://example.com", true)]
    [InlineData(ModelProviders.Offline, "http://localhost", true)]
    public void The_endpoint_is_checked_per_provider(string provider, string? endpoint, bool refused)
    {
        var form = Valid();
        form.Deployments[0].Provider = provider;
        form.Deployments[0].Endpoint = endpoint;

        Assert.Equal(refused, form.Validate().ContainsKey("deployments[0].endpoint"));
    }

    [Fact]
    public void An_existing_route_round_trips_through_the_form_unchanged()
    {
        var deployment = new ModelDeployment(
            Guid.NewGuid(), "primary", ModelProviders.AzureOpenAi, "https://example.openai.azure.com", "gpt-4o", Guid.NewGuid(), 1, 3,
            TimeSpan.FromSeconds(30), 2, TimeSpan.FromMinutes(1), 64_000, 2_500_000, 10_000_000, 1_250_000, Enabled: false);
        var route = new ModelRoute(Guid.NewGuid(), "chat", RouteStrategies.Priority, ["default"], "Main chat", [deployment], DateTime.UtcNow, DateTime.UtcNow, Guid.NewGuid());

        var request = ModelRouteForm.From(route).ToRequest();

        Assert.Equal(new ModelRouteRequest("chat", RouteStrategies.Priority, request.Fallbacks, "Main chat", request.Deployments), request);
        Assert.Equal(["default"], request.Fallbacks);
        Assert.Equal(
            new ModelDeploymentRequest(deployment.Name, deployment.Provider, deployment.Endpoint, deployment.Model, deployment.CredentialId, deployment.Priority,
                deployment.Weight, deployment.Timeout, deployment.MaxRetries, deployment.Cooldown, deployment.ContextWindow, deployment.InputPriceMicros,
                deployment.OutputPriceMicros, deployment.CachedInputPriceMicros, deployment.Enabled),
            Assert.Single(request.Deployments));
    }

    [Fact]
    public void Added_deployments_get_a_free_name()
    {
        var form = Valid();
        form.Deployments[0].Name = "deployment-2";

        form.AddDeployment();

        Assert.Equal("deployment-3", form.Deployments[1].Name);
    }

    private static ModelRouteForm Valid()
    {
        var form = ModelRouteForm.New();
        form.Alias = "chat";
        form.Deployments[0].Model = "gpt-4o";
        return form;
    }
}
