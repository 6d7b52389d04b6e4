using System.Net.Http.Headers;
using AgentPlatform.Console.Platform;

namespace AgentPlatform.Console.Models;

/// <summary>A route as read for editing, with the ETag a save must send back.</summary>
public sealed record EditableModelRoute(ModelRoute Route, string ETag);

/// <summary>
/// The model routes API's optimistic concurrency: a route is read with its ETag and written with <c>If-Match</c>, so
/// a save that would overwrite someone else's change fails (412, or 409 when both saves met) instead.
/// </summary>
public sealed class ModelRoutesClient(PlatformApi api)
{
    public const string Path = "/api/model-routes";

    /// <summary>What the editor says when its save lost to another change.</summary>
    public const string ConflictMessage =
        "Someone changed this route after you opened it, so your changes were not saved. Load the latest version and apply your changes to it.";

    public static bool IsConflict(PlatformApiException exception) => exception.Status is 409 or 412;

    public Task<PagedResult<ModelRoute>> ListAsync(CancellationToken cancellationToken = default) =>
        api.GetAsync<PagedResult<ModelRoute>>($"{Path}?page=1&pageSize=200", cancellationToken);

    public async Task<EditableModelRoute> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{Path}/{id}", UriKind.Relative));
        using var response = await api.SendAsync(request, cancellationToken);
        return new EditableModelRoute(await ReadAsync(response, cancellationToken), ETagOf(response));
    }

    public Task<ModelRoute> CreateAsync(ModelRouteRequest route, CancellationToken cancellationToken = default) =>
        api.PostAsync<ModelRouteRequest, ModelRoute>(Path, route, cancellationToken: cancellationToken);

    /// <summary>Saves the route if it is still the version <paramref name="eTag"/> names; returns it with its new ETag.</summary>
    public async Task<EditableModelRoute> UpdateAsync(Guid id, ModelRouteRequest route, string eTag, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri($"{Path}/{id}", UriKind.Relative))
        {
            Content = JsonContent.Create(route, options: PlatformApi.Json),
        };
        request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(eTag));
        using var response = await api.SendAsync(request, cancellationToken);
        return new EditableModelRoute(await ReadAsync(response, cancellationToken), ETagOf(response));
    }

    private static async Task<ModelRoute> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<ModelRoute>(PlatformApi.Json, cancellationToken)
        ?? throw new PlatformApiException((int)response.StatusCode, "The platform answered without content.");

    private static string ETagOf(HttpResponseMessage response) =>
        response.Headers.ETag?.ToString()
        ?? throw new PlatformApiException((int)response.StatusCode, "The platform did not say which version of the route this is.");
}
