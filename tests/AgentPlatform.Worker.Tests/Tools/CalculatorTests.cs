using AgentPlatform.Worker.Tools;

namespace AgentPlatform.Worker.Tests.Tools;

public sealed class CalculatorTests
{
    [Theory]
    [InlineData("1 + 2", "3")]
    [InlineData("0.1 + 0.2", "0.3")]
    [InlineData("2 + 3 * 4", "14")]
    [InlineData("(2 + 3) * 4", "20")]
    [InlineData("10 / 4", "2.5")]
    [InlineData("1 / 3", "0.3333333333333333333333333333")]
    [InlineData("7 % 3", "1")]
    [InlineData("-7 % 3", "-1")]
    [InlineData("5.5 % 2", "1.5")]
    [InlineData("2 ^ 10", "1024")]
    [InlineData("2 ^ 3 ^ 2", "512")]
    [InlineData("-2 ^ 2", "-4")]
    [InlineData("(-2) ^ 2", "4")]
    [InlineData("2 ^ -2", "0.25")]
    [InlineData("--3", "3")]
    [InlineData("+3 - -3", "6")]
    [InlineData("1.50 * 2", "3")]
    [InlineData("1e3 + 2.5E-1", "1000.25")]
    [InlineData(".5 + 1.", "1.5")]
    [InlineData("abs(-4.2)", "4.2")]
    [InlineData("min(3, -1, 2)", "-1")]
    [InlineData("max(3, -1, 2)", "3")]
    [InlineData("round(2.5)", "3")]
    [InlineData("round(-2.5)", "-3")]
    [InlineData("round(3.14159, 2)", "3.14")]
    [InlineData("floor(-1.5)", "-2")]
    [InlineData("ceil(1.2)", "2")]
    [InlineData("  ( 1+2 )*( 3 ) ", "9")]
    [InlineData("79228162514264337593543950335 - 1", "79228162514264337593543950334")]
    [InlineData("123456789012345678 * 1000000000", "123456789012345678000000000")]
    [InlineData("0.0000001 * 1", "0.0000001")]
    [InlineData("MAX(1, 2)", "2")]
    public void Exact_arithmetic_gives_decimal_results(string expression, string expected)
    {
        var result = CalculatorTool.Calculate(expression);

        Assert.Equal(expected, result.Value);
        Assert.True(result.Exact);
    }

    [Theory]
    [InlineData("sqrt(16)", "4")]
    [InlineData("sqrt(2)", "1.4142135623731")]
    [InlineData("round(ln(e), 10)", "1")]
    [InlineData("log10(1000)", "3")]
    [InlineData("exp(0)", "1")]
    [InlineData("4 ^ 0.5", "2")]
    [InlineData("round(pi, 4)", "3.1416")]
    [InlineData("round(sqrt(2), 4)", "1.4142")]
    public void Floating_point_functions_are_marked_inexact(string expression, string expectedPrefix)
    {
        var result = CalculatorTool.Calculate(expression);

        Assert.StartsWith(expectedPrefix, result.Value, StringComparison.Ordinal);
        Assert.False(result.Exact);
    }

    [Theory]
    [InlineData("1 / 0", "division_by_zero")]
    [InlineData("5 % 0", "division_by_zero")]
    [InlineData("0 ^ -1", "division_by_zero")]
    [InlineData("79228162514264337593543950335 + 1", "overflow")]
    [InlineData("10 ^ 29", "overflow")]
    [InlineData("1e30", "overflow")]
    [InlineData("exp(1000)", "overflow")]
    [InlineData("(-1) ^ 0.5", "domain_error")]
    [InlineData("sqrt(-1)", "domain_error")]
    [InlineData("ln(0)", "domain_error")]
    [InlineData("log10(-5)", "domain_error")]
    [InlineData("(-8) ^ 0.5", "domain_error")]
    public void Math_errors_are_reported(string expression, string code)
    {
        var error = Assert.Throws<ToolException>(() => CalculatorTool.Calculate(expression));

        Assert.Equal(code, error.Code);
    }

    [Theory]
    [InlineData("1 +", 4, "unexpected end")]
    [InlineData("(1 + 2", 7, "expected ')'")]
    [InlineData("1 + 2)", 6, "unmatched ')'")]
    [InlineData("2 * x", 5, "unknown name 'x'")]
    [InlineData("foo(1)", 1, "unknown function 'foo'")]
    [InlineData("1 $ 2", 3, "unexpected '$'")]
    [InlineData("1 2", 3, "unexpected '2'")]
    [InlineData("sqrt(1, 2)", 1, "exactly one argument")]
    [InlineData("round(1.5, 0.5)", 12, "whole number")]
    [InlineData("min()", 1, "at least one argument")]
    [InlineData(".", 1, "needs digits")]
    [InlineData("System.IO.File.Delete(1)", 1, "unknown name 'System'")]
    public void Syntax_errors_name_the_position(string expression, int position, string message)
    {
        var error = Assert.Throws<ToolException>(() => CalculatorTool.Calculate(expression));

        Assert.Equal("syntax_error", error.Code);
        Assert.Contains($"position {position}:", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_too_long_and_too_deep_expressions_are_refused()
    {
        Assert.Equal("syntax_error", Assert.Throws<ToolException>(() => CalculatorTool.Calculate("  ")).Code);
        Assert.Equal("too_long", Assert.Throws<ToolException>(() => CalculatorTool.Calculate(string.Join('+', Enumerable.Repeat("1", 600)))).Code);
        var deep = new string('(', 200) + "1" + new string(')', 200);
        Assert.Contains("nesting deeper", Assert.Throws<ToolException>(() => CalculatorTool.Calculate(deep)).Message, StringComparison.Ordinal);
        Assert.Contains("nesting deeper", Assert.Throws<ToolException>(() => CalculatorTool.Calculate(new string('-', 500) + "1")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_function_declares_its_argument_in_its_json_schema()
    {
        var function = new CalculatorTool().AIFunction;

        Assert.Equal("calculator", function.Name);
        var schema = function.JsonSchema;
        Assert.Equal("string", schema.GetProperty("properties").GetProperty("expression").GetProperty("type").GetString());
        Assert.Equal("expression", Assert.Single(schema.GetProperty("required").EnumerateArray()).GetString());
        Assert.Contains("1000 characters", schema.GetProperty("properties").GetProperty("expression").GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
