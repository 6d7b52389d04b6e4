using System.ComponentModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentPlatform.Infrastructure.Networking;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// The <c>http_fetch</c> tool: one GET of a text resource on an allowed host. Redirects are followed here, not by the
/// handler, so each hop's host is checked against the allowlist (and its addresses by <see cref="EgressPolicy"/>);
/// the body is read up to a cap; only text is returned. The HTTP client has no retries, no proxy, no cookies, no
/// credentials and no service discovery.
/// </summary>
public sealed class HttpFetchTool : ITool
{
    public const string ToolName = "http_fetch";
    public const string HttpClientName = "tools-http-fetch";
    public const int MaxUrlLength = 2048;

    private static readonly HashSet<string> TextMediaTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/json", "application/xml", "application/javascript", "application/ecmascript", "application/x-ndjson",
        "application/yaml", "application/x-yaml", "application/toml", "application/x-www-form-urlencoded", "application/rtf",
    };

    private readonly IHttpClientFactory httpClientFactory;
    private readonly EgressPolicy policy;
    private readonly IOptionsMonitor<HttpFetchOptions> options;

    public HttpFetchTool(IHttpClientFactory httpClientFactory, EgressPolicy policy, IOptionsMonitor<HttpFetchOptions> options)
    {
        this.httpClientFactory = httpClientFactory;
        this.policy = policy;
        this.options = options;
        AIFunction = AIFunctionFactory.Create(FetchAsync, new AIFunctionFactoryOptions
        {
            Name = ToolName,
            Description =
                "Fetches a web resource with an HTTP GET and returns its status code, content type and text. Only http and https URLs " +
                "on the operator's egress allowlist are reachable (others are refused), only text responses (HTML, plain text, JSON, " +
                "XML, ...) are returned, and long bodies are cut off (truncated=true). Redirects are followed when they stay on " +
                "allowed hosts.",
        });
    }

    public AIFunction AIFunction { get; }

    public async Task<HttpFetchResult> FetchAsync(
        [Description("The absolute http or https URL to GET, e.g. \"https://example.com/page\".")] string url,
        CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var target = Check(url, isRedirect: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var client = httpClientFactory.CreateClient(HttpClientName);
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, target)
                {
                    Version = HttpVersion.Version11,
                    VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                };
                request.Headers.Accept.ParseAdd("text/html, text/plain;q=0.9, application/json;q=0.9, text/*;q=0.8, */*;q=0.1");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    if (redirects >= settings.MaxRedirects)
                    {
                        throw new ToolException("too_many_redirects", $"The URL redirected more than {settings.MaxRedirects} times.");
                    }

                    target = Check(new Uri(target, location).AbsoluteUri, isRedirect: true);
                    continue;
                }

                return await ReadAsync(target, response, settings.MaxResponseBytes, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ToolException("timeout", $"The fetch did not finish within {settings.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException exception) when (Find<EgressDeniedException>(exception) is { } denied)
        {
            throw new ToolException("egress_denied", denied.Message);
        }
        catch (HttpRequestException exception)
        {
            throw new ToolException("fetch_failed", $"Fetching {target.Host} failed ({Describe(exception)}).");
        }
    }

    private Uri Check(string url, bool isRedirect)
    {
        var what = isRedirect ? "The URL redirected to" : "The URL is";
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength)
        {
            throw new ToolException(ToolException.InvalidArguments, $"The URL must be non-empty and at most {MaxUrlLength} characters.");
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ToolException(ToolException.InvalidArguments, $"{what} {(isRedirect ? "a location that is " : "")}not an absolute http or https URL.");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new ToolException(ToolException.InvalidArguments, $"{what} a URL with credentials (user info); that is not allowed.");
        }

        if (!policy.IsHostAllowed(uri.IdnHost))
        {
            throw new ToolException("egress_denied", isRedirect
                ? $"The URL redirected to the host '{uri.IdnHost}', which is not on this platform's egress allowlist."
                : $"The host '{uri.IdnHost}' is not on this platform's egress allowlist.");
        }

        return uri;
    }

    private static async Task<HttpFetchResult> ReadAsync(Uri url, HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var contentType = response.Content.Headers.ContentType;
        if (status is 204 or 304 || response.Content.Headers.ContentLength == 0)
        {
            return new HttpFetchResult(url.AbsoluteUri, status, contentType?.ToString() ?? "", "", false);
        }

        if (contentType?.MediaType is not { } mediaType || !IsText(mediaType))
        {
            throw new ToolException("unsupported_content_type",
                $"The response (status {status}) is '{contentType?.MediaType ?? "without a content type"}', not text; only text responses are returned.");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        var truncated = length > maxBytes;
        var text = EncodingOf(contentType).GetString(buffer, 0, Math.Min(length, maxBytes)).TrimStart('\uFEFF');
        return new HttpFetchResult(url.AbsoluteUri, status, contentType.ToString(), text, truncated);
    }

    private static bool IsText(string mediaType) =>
        mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || TextMediaTypes.Contains(mediaType)
        || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("+xml", StringComparison.OrdinalIgnoreCase);

    private static Encoding EncodingOf(MediaTypeHeaderValue contentType)
    {
        try
        {
            return contentType.CharSet is { Length: > 0 } charSet ? Encoding.GetEncoding(charSet.Trim('"')) : Encoding.UTF8;
        }
        catch (ArgumentException)
        {
            return Encoding.UTF8;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static string Describe(HttpRequestException exception) => exception.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => "no connection could be made",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed",
        HttpRequestError.ResponseEnded => "the server closed the connection",
        HttpRequestError.InvalidResponse => "the response was not valid HTTP",
        _ => exception.HttpRequestError.ToString(),
    };

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>What a fetch returned: the final URL (after redirects), the status, the content type and the (maybe truncated) text.</summary>
public sealed record HttpFetchResult(string Url, int Status, string ContentType, string Text, bool Truncated);
