using AgentPlatform.Console.Components;
using AgentPlatform.Console.Status;
using AgentPlatform.ServiceDefaults;
using MudBlazor.Services;

var builder = WebApplication.CreateBuilder(args);

builder.AddHttpServiceDefaults();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices();
builder.AddPlatformStatus();

var app = builder.Build();

app.UseExceptionHandler("/error", createScopeForErrors: true);
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAntiforgery();
app.MapDefaultEndpoints();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();
