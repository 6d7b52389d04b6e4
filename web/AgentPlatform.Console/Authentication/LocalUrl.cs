namespace AgentPlatform.Console.Authentication;

/// <summary>Return URLs after sign-in: only paths of this site, so a link cannot send a user elsewhere.</summary>
public static class LocalUrl
{
    /// <summary>True for <c>/path?query</c>; false for absolute URLs, <c>//host</c>, <c>/\host</c> and anything odd.</summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl)
        && Uri.TryCreate(url, UriKind.Relative, out _);

    /// <summary><paramref name="url"/> when it is local, else <c>/</c>.</summary>
    public static string OrRoot(string? url) => IsLocal(url) ? url! : "/";
}
