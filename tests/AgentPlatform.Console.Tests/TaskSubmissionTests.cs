using System.Text;
using AgentPlatform.Console.Tasks;

namespace AgentPlatform.Console.Tests;

public sealed class TaskSubmissionTests
{
    [Fact]
    public void The_same_request_keeps_its_idempotency_key_and_another_request_gets_a_new_one()
    {
        var keys = new IdempotencyKeys();

        var first = keys.For(new SubmitTaskRequest("Compare offers", null, 7));
        var again = keys.For(new SubmitTaskRequest("Compare offers", null, 7));
        var changed = keys.For(new SubmitTaskRequest("Compare offers", null, 8));

        Assert.Equal(first, again);
        Assert.NotEqual(first, changed);
        Assert.Matches("^[0-9a-f]{32}$", first);
    }

    [Fact]
    public async Task A_text_file_becomes_the_input()
    {
        using var content = new MemoryStream(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("Zwei Angebote vergleichen")).ToArray());

        var (text, error) = await TaskInputFile.ReadAsync(content, 1024, TestContext.Current.CancellationToken);

        Assert.Null(error);
        Assert.Equal("Zwei Angebote vergleichen", text);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 }, "The file is not UTF-8 text.")]
    [InlineData(new byte[] { 0x61, 0x00, 0x62 }, "The file is not text.")]
    [InlineData(new byte[] { 0x20, 0x0A }, "The file is empty.")]
    public async Task A_file_that_is_not_text_is_refused(byte[] bytes, string expected)
    {
        using var content = new MemoryStream(bytes);

        var (text, error) = await TaskInputFile.ReadAsync(content, 1024, TestContext.Current.CancellationToken);

        Assert.Null(text);
        Assert.Equal(expected, error);
    }

    [Fact]
    public async Task A_file_above_the_limit_is_refused_before_and_while_reading()
    {
        Assert.Equal("The file has 2 MiB; a task's input can be at most 1 MiB.", TaskInputFile.CheckSize(2 * 1024 * 1024, 1024 * 1024));
        Assert.Null(TaskInputFile.CheckSize(1024 * 1024, 1024 * 1024));

        using var content = new MemoryStream(new byte[2048]);
        var (text, error) = await TaskInputFile.ReadAsync(content, 1024, TestContext.Current.CancellationToken);

        Assert.Null(text);
        Assert.StartsWith("The file has 2 KiB", error, StringComparison.Ordinal);
    }
}
