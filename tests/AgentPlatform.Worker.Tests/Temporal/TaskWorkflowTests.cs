using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks.Temporal;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Converters;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>
/// The Temporal adapter's offline contract: the workflow class is a valid Temporal workflow, each step policy maps
/// onto Temporal's activity options and retry policy, and a step's final failure reaches the flow the way the
/// embedded runner reports it. (Running the workflow needs a Temporal server: <see cref="TemporalWorkflowIntegrationTests"/>.)
/// </summary>
public sealed class TaskWorkflowTests
{
    [Fact]
    public void The_task_workflow_is_a_valid_workflow_with_the_cancel_signal_and_the_progress_query()
    {
        var definition = WorkflowDefinition.Create<TaskWorkflow>();

        Assert.Equal(nameof(TaskWorkflow), definition.Name);
        Assert.Equal(nameof(TaskWorkflow.RunAsync), definition.RunMethod.Name);
        Assert.Equal([typeof(TaskFlowInput)], definition.RunMethod.GetParameters().Select(p => p.ParameterType));
        Assert.Contains("cancel", definition.Signals.Keys);
        Assert.Contains("progress", definition.Queries.Keys);
        Assert.Equal("task-0197a6f4-4b4a-7c1e-9f38-6a1d2c3b4e5f", TaskWorkflow.WorkflowId(Guid.Parse("0197a6f4-4b4a-7c1e-9f38-6a1d2c3b4e5f")));
    }

    private static readonly Dictionary<string, StepPolicy> Policies = new()
    {
        [TaskActivities.Prepare.Name] = TaskActivities.Prepare.Policy,
        [TaskActivities.Plan.Name] = TaskActivities.Plan.Policy,
        [TaskActivities.Route.Name] = TaskActivities.Route.Policy,
        [TaskActivities.RunSubAgent.Name] = TaskActivities.RunSubAgent.Policy,
        [TaskActivities.Aggregate.Name] = TaskActivities.Aggregate.Policy,
        [TaskActivities.Judge.Name] = TaskActivities.Judge.Policy,
        [TaskActivities.Complete.Name] = TaskActivities.Complete.Policy,
        [TaskActivities.Fail.Name] = TaskActivities.Fail.Policy,
        [TaskActivities.Cancel.Name] = TaskActivities.Cancel.Policy,
    };

    public static TheoryData<string> Activities => new(Policies.Keys);

    [Theory]
    [MemberData(nameof(Activities))]
    public void Each_step_policy_maps_onto_the_activity_timeout_and_a_retry_policy_with_the_same_backoff(string activity)
    {
        var policy = Policies[activity];
        using var cancellation = new CancellationTokenSource();

        var options = TemporalFlowContext.StepOptions("sub-agent/2", policy, cancellation.Token);

        Assert.Equal(policy.Timeout, options.StartToCloseTimeout);
        Assert.Equal("sub-agent/2", options.Summary);
        Assert.Equal(cancellation.Token, options.CancellationToken);
        Assert.NotNull(options.HeartbeatTimeout);
        Assert.True(options.HeartbeatTimeout < policy.Timeout);
        var retry = Assert.IsType<Temporalio.Common.RetryPolicy>(options.RetryPolicy);
        Assert.Equal(policy.MaxAttempts, retry.MaximumAttempts);
        Assert.Equal(policy.InitialBackoff, retry.InitialInterval);
        Assert.Equal(2, retry.BackoffCoefficient);
        Assert.Equal([nameof(PayloadTooLargeException)], retry.NonRetryableErrorTypes);
        // Temporal waits InitialInterval × 2^(n-2) before attempt n, as the embedded runner does.
        for (var attempt = 2; attempt <= policy.MaxAttempts; attempt++)
        {
            Assert.Equal(policy.BackoffBefore(attempt), retry.InitialInterval * Math.Pow(retry.BackoffCoefficient, attempt - 2));
        }
    }

    [Fact]
    public void The_runners_bookkeeping_retries_without_limit_and_is_never_cancelled_with_the_task()
    {
        var options = TemporalFlowContext.BookkeepingOptions("journal plan");

        Assert.Equal(CancellationToken.None, options.CancellationToken);
        Assert.Equal(0, options.RetryPolicy!.MaximumAttempts);
        Assert.NotNull(options.StartToCloseTimeout);
        Assert.NotNull(options.RetryPolicy.MaximumInterval);
    }

    [Fact]
    public void A_step_whose_attempts_all_failed_reaches_the_flow_as_step_failed_with_the_last_error_and_its_attempt()
    {
        var cause = Converter.FailureConverter.ToFailure(
            new ApplicationFailureException("sub-agent/1 is scripted to fail", "InvalidOperationException", details: [2]), Converter.PayloadConverter);

        var failure = TemporalFlowContext.StepFailure("sub-agent/1", TaskActivities.RunSubAgent.Name, TaskActivities.RunSubAgent.Policy,
            ActivityFailure(RetryState.MaximumAttemptsReached, cause));

        Assert.Equal("sub-agent/1", failure.StepKey);
        Assert.Equal(TaskActivities.RunSubAgent.Name, failure.Activity);
        Assert.Equal(2, failure.Attempts);
        Assert.Equal("sub-agent/1 is scripted to fail", failure.Reason);
    }

    [Fact]
    public void A_step_that_timed_out_on_every_attempt_says_so_and_counts_every_attempt()
    {
        var cause = new Failure { Message = "activity StartToClose timeout", TimeoutFailureInfo = new TimeoutFailureInfo { TimeoutType = TimeoutType.StartToClose } };

        var failure = TemporalFlowContext.StepFailure("plan", TaskActivities.Plan.Name, TaskActivities.Plan.Policy,
            ActivityFailure(RetryState.MaximumAttemptsReached, cause));

        Assert.Equal(TaskActivities.Plan.Policy.MaxAttempts, failure.Attempts);
        Assert.Equal("timed out after 120 s", failure.Reason);
    }

    [Fact]
    public void An_oversized_payload_fails_its_step_at_once()
    {
        var cause = Converter.FailureConverter.ToFailure(
            new ApplicationFailureException("The output of step 'plan': a payload of 40000 bytes is above the claim-check threshold", nameof(PayloadTooLargeException), details: [1]),
            Converter.PayloadConverter);

        var fromActivity = TemporalFlowContext.StepFailure("plan", "plan", TaskActivities.Plan.Policy, ActivityFailure(RetryState.NonRetryableFailure, cause));
        var fromWorkflow = TemporalFlowContext.StepFailure("plan", "plan", TaskActivities.Plan.Policy, new PayloadTooLargeException("The input of step 'plan'", 40_000, 32_768));

        Assert.Equal(1, fromActivity.Attempts);
        Assert.StartsWith("The output of step 'plan'", fromActivity.Reason, StringComparison.Ordinal);
        Assert.Equal(1, fromWorkflow.Attempts);
        Assert.StartsWith("The input of step 'plan': a payload of 40000 bytes", fromWorkflow.Reason, StringComparison.Ordinal);
    }

    private static DataConverter Converter => DataConverter.Default;

    private static ActivityFailureException ActivityFailure(RetryState retryState, Failure cause) =>
        Assert.IsType<ActivityFailureException>(Converter.FailureConverter.ToException(
            new Failure
            {
                Message = "Activity task failed",
                Cause = cause,
                ActivityFailureInfo = new ActivityFailureInfo { ActivityType = new ActivityType { Name = "run-step" }, ActivityId = "1", RetryState = retryState },
            },
            Converter.PayloadConverter));
}
