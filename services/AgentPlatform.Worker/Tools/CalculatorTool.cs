using System.ComponentModel;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Tools;

/// <summary>The <c>calculator</c> tool: exact arithmetic through <see cref="ArithmeticEvaluator"/>.</summary>
public sealed class CalculatorTool : ITool
{
    public const string ToolName = "calculator";

    public CalculatorTool() =>
        AIFunction = AIFunctionFactory.Create(Calculate, new AIFunctionFactoryOptions
        {
            Name = ToolName,
            Description =
                "Evaluates an arithmetic expression exactly (decimal arithmetic, 28 significant digits) and returns the value as text. " +
                "Supports numbers (1.5, 2e3), + - * / % (remainder) ^ (power, right-associative, -2^2 = -4), parentheses, " +
                "the constants pi and e, and the functions abs, ceil, exp, floor, ln, log10, max(a, b, ...), min(a, b, ...), " +
                "round(x) or round(x, decimals) (halves away from zero) and sqrt. Results that used sqrt, ln, log10, exp, " +
                "pi, e or a fractional power are approximate (about 15 digits) and say exact=false.",
        });

    public AIFunction AIFunction { get; }

    public static CalculatorResult Calculate(
        [Description("The expression, e.g. \"(17.5 - 2) * 3 / 4\" or \"round(sqrt(2), 4)\". At most 1000 characters.")] string expression)
    {
        var result = ArithmeticEvaluator.Evaluate(expression);
        return new CalculatorResult(result.Text, result.Exact);
    }
}

/// <summary>A calculation's value (invariant culture, never in exponent notation) and whether it is exact.</summary>
public sealed record CalculatorResult(string Value, bool Exact);
