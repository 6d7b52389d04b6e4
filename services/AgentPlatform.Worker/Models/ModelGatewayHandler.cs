using System.Net.Http.Headers;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Models;

namespace AgentPlatform.Worker.Models;

/// <summary>
/// Sends the Worker's model calls as the tenant they are for: a service token for the current
/// <see cref="ModelCallScope"/>'s tenant (charged to the task's user), the platform's correlation headers
/// (task, main agent, sub-agent), and the reported cost back into the scope. A call outside any scope is refused:
/// every model call of the Worker belongs to a task.
/// </summary>
public sealed class ModelGatewayHandler(ServiceTokenClient tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var scope = ModelCallScope.Current
            ?? throw new InvalidOperationException("A model call of the Worker must run inside a ModelCallScope (it says which tenant and task it is for).");
        var token = await tokens.GetAccessTokenAsync(scope.TenantId, scope.ChargedUserId, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Set(request, ModelCallHeaders.TaskId, scope.TaskId.ToString());
        Set(request, ModelCallHeaders.MainAgentId, scope.MainAgentId);
        Set(request, ModelCallHeaders.SubAgentId, scope.SubAgentId);

        var response = await base.SendAsync(request, cancellationToken);
        if (response.Headers.TryGetValues(ModelCallHeaders.CostMicros, out var cost))
        {
            scope.AddCost(cost.FirstOrDefault());
        }

        return response;
    }

    private static void Set(HttpRequestMessage request, string header, string? value)
    {
        request.Headers.Remove(header);
        if (value is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
    }
}
