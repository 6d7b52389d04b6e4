using MudBlazor.Services;

namespace AgentPlatform.Console.Components;

public static class ConsoleComponentsExtensions
{
    /// <summary>Blazor Server with MudBlazor.</summary>
    public static IHostApplicationBuilder AddConsoleComponents(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents()
            // A task's input typed or pasted into the page travels in one message; files are streamed in chunks.
            .AddHubOptions(hub => hub.MaximumReceiveMessageSize = 512 * 1024);
        builder.Services.AddMudServices();
        return builder;
    }
}
