#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false
// The floor of benchmarks/model-gateway-overhead.sh: the least any .NET process in the middle can cost. It
// forwards a chat completion to the upstream with HttpClient and copies the answer back: no authentication,
// no parsing, no governance, no records. Run: BARE_PROXY_UPSTREAM=http://127.0.0.1:18092 dotnet run -c Release bare-proxy.cs
var upstream = new Uri(new Uri(Environment.GetEnvironmentVariable("BARE_PROXY_UPSTREAM") ?? "http://127.0.0.1:18092"), "/v1/chat/completions");
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
app.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    using var content = new StreamContent(context.Request.Body);
    content.Headers.ContentType = new("application/json");
    using var request = new HttpRequestMessage(HttpMethod.Post, upstream) { Content = content };
    request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
    context.Response.StatusCode = (int)response.StatusCode;
    context.Response.ContentType = "application/json";
    await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
});
app.Run();
