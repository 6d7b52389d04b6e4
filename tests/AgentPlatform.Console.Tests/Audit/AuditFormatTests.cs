using AgentPlatform.Console.Audit;
using MudBlazor;

namespace AgentPlatform.Console.Tests.Audit;

public sealed class AuditFormatTests
{
    [Fact]
    public void An_intact_chain_says_so_with_its_head()
    {
        var message = AuditFormat.Verification(new AuditVerification(true, 1234, "ab12", null, null));

        Assert.Equal(Severity.Success, message.Severity);
        Assert.Equal("The hash chain is intact.", message.Title);
        Assert.Equal("All 1,234 records verified; each one's hash matches its content and its predecessor's hash.", message.Detail);
        Assert.Equal("ab12", message.LastHash);
    }

    [Fact]
    public void A_broken_chain_names_the_first_record_that_breaks_it()
    {
        var message = AuditFormat.Verification(new AuditVerification(false, 56, null, 57, "Record 57 does not match its hash."));

        Assert.Equal(Severity.Error, message.Severity);
        Assert.Equal("The hash chain is broken at record 57.", message.Title);
        Assert.Equal("Record 57 does not match its hash. The 56 records before it verified. Records from 57 on cannot be trusted.", message.Detail);
        Assert.Null(message.LastHash);
    }

    [Fact]
    public void An_empty_trail_is_intact()
    {
        Assert.Equal("The audit trail has no records yet.", AuditFormat.Verification(new AuditVerification(true, 0, "0000", null, null)).Detail);
    }

    [Theory]
    [InlineData(null, "—")]
    [InlineData("", "—")]
    [InlineData("not json {", "not json {")]
    [InlineData("""{"a":1,"b":[true]}""", "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}")]
    public void Details_are_indented_when_they_are_json(string? details, string expected)
    {
        Assert.Equal(expected, AuditFormat.Details(details).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_hash_is_shortened_for_the_table()
    {
        Assert.Equal("0123456789ab…", AuditFormat.ShortHash("0123456789abcdef"));
        Assert.Equal("short", AuditFormat.ShortHash("short"));
    }
}
