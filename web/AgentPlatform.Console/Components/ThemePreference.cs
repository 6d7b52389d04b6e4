namespace AgentPlatform.Console.Components;

/// <summary>
/// Dark or light, remembered in a cookie (not browser storage) so the first render already has it; without the
/// cookie the layout follows the system's <c>prefers-color-scheme</c>.
/// </summary>
public static class ThemePreference
{
    public const string CookieName = "agentplatform.theme";
    public const string CascadingName = "ThemePreference";

    public static bool? Read(IRequestCookieCollection cookies) => cookies[CookieName] switch
    {
        "dark" => true,
        "light" => false,
        _ => null,
    };

    public static string Value(bool darkMode) => darkMode ? "dark" : "light";
}
