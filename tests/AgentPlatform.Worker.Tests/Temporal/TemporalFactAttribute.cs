using System.Runtime.CompilerServices;
using AgentPlatform.Testing;
using Xunit.Sdk;
using Xunit.v3;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>
/// A test that needs a real Temporal server, at <c>AGENTPLATFORM_TEST_TEMPORAL=host:port</c> (a dev server: README,
/// "Topologies"). Without one it is skipped with that reason — except where infrastructure is required (CI). CI cannot
/// have a Temporal server (none is packaged for its machines), and its script fails a run with any skipped test, so
/// there, without a server, these tests are not discovered at all (<see cref="TemporalFactDiscoverer"/>) rather than
/// skipped or failed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer(typeof(TemporalFactDiscoverer))]
public sealed class TemporalFactAttribute : FactAttribute
{
    public const string Variable = "AGENTPLATFORM_TEST_TEMPORAL";

    public TemporalFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (Address is null)
        {
            Skip = $"Temporal is not configured: start a dev server and set {Variable}=host:port to run this test (see README, 'Topologies').";
        }
    }

    /// <summary>The Temporal frontend to test against, or null.</summary>
    public static string? Address => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>Whether the tests are left out: no Temporal server where every discovered test must run.</summary>
    public static bool LeftOut => Address is null && TestInfrastructure.IsRequired;
}

/// <summary>Discovers a <see cref="TemporalFactAttribute"/> test as a fact, or not at all when <see cref="TemporalFactAttribute.LeftOut"/>.</summary>
public sealed class TemporalFactDiscoverer : FactDiscoverer
{
    public override ValueTask<IReadOnlyCollection<IXunitTestCase>> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod, IFactAttribute factAttribute)
    {
        if (!TemporalFactAttribute.LeftOut)
        {
            return base.Discover(discoveryOptions, testMethod, factAttribute);
        }

        TestContext.Current.SendDiagnosticMessage(
            $"{testMethod.TestClass.TestClassName}.{testMethod.MethodName} is left out: it needs a Temporal server ({TemporalFactAttribute.Variable}), "
            + $"which cannot run where {TestInfrastructure.RequireVariable} is set.");
        return new([]);
    }
}
