namespace AgentPlatform.Testing;

/// <summary>Locations in the repository, found from the test's output folder.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AgentPlatform.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No AgentPlatform.sln above {AppContext.BaseDirectory}.");
    }
}
