namespace AgentPlatform.Console;

public static class RelativeRedirects
{
    /// <summary>
    /// Makes redirects to this site relative (<c>Location: /tasks</c>). The console runs behind the gateway, which does
    /// not pass the public host on, so an absolute redirect built from the request (the cookie handler's sign-in
    /// redirect, a page's navigation after a form post) would send the browser to the console's internal address.
    /// </summary>
    public static IApplicationBuilder UseRelativeRedirects(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var location = context.Response.Headers.Location.ToString();
            if (Uri.TryCreate(location, UriKind.Absolute, out var uri)
                && uri.Scheme is "http" or "https"
                && string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.Location = uri.PathAndQuery + uri.Fragment;
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
