using AgentPlatform.Console;
using AgentPlatform.Console.Authentication;
using AgentPlatform.Console.Components;
using AgentPlatform.Console.Platform;
using AgentPlatform.Console.Status;
using AgentPlatform.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.AddConsoleComponents();
builder.AddConsoleAuthentication();
builder.AddPlatformApi();
builder.AddPlatformStatus();

var app = builder.Build();

app.UseRelativeRedirects();
app.UseExceptionHandler("/error", createScopeForErrors: true);
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.MapDefaultEndpoints();
app.MapStaticAssets().AllowAnonymous();
app.MapConsoleSignOut();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>The entry point, public so integration tests can host the console in-process.</summary>
public partial class Program;
