using System.Globalization;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// Evaluates arithmetic without reflection, scripting or <c>DataTable.Compute</c>: a recursive-descent parser over
/// numbers, <c>+ - * / % ^</c>, parentheses, unary signs, the constants <c>pi</c> and <c>e</c> and a few functions.
/// <para>
/// Precision: numbers and <c>+ - * / %</c>, integer powers, <c>abs min max round floor ceil</c> are exact
/// <see cref="decimal"/> arithmetic (28–29 significant digits, |x| ≤ 7.9e28, so <c>0.1 + 0.2 = 0.3</c>).
/// <c>sqrt ln log10 exp</c>, non-integer powers and the constants are computed in <see cref="double"/> (about 15
/// significant digits); a result that used them is marked inexact. <c>^</c> is right-associative and binds tighter
/// than a unary minus (<c>-2^2 = -4</c>); <c>%</c> takes the sign of the dividend; <c>round</c> rounds halves away
/// from zero.
/// </para>
/// </summary>
public static class ArithmeticEvaluator
{
    public const int MaxLength = 1000;
    private const int MaxDepth = 64;

    public static ArithmeticResult Evaluate(string expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            throw new ToolException("syntax_error", "The expression is empty.");
        }

        if (expression.Length > MaxLength)
        {
            throw new ToolException("too_long", $"The expression has {expression.Length} characters; at most {MaxLength} are accepted.");
        }

        var parser = new Parser(expression);
        try
        {
            var value = parser.ParseAll();
            return new ArithmeticResult(Normalize(value), parser.Exact);
        }
        catch (OverflowException)
        {
            throw new ToolException("overflow", "The result (or a step towards it) is too large: values are limited to ±7.9e28.");
        }
        catch (DivideByZeroException)
        {
            throw new ToolException("division_by_zero", "Division by zero.");
        }
    }

    // Drops trailing zeros (1.50 * 2 is 3, not 3.00) without ever switching to exponent notation.
    private static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;

    private sealed class Parser(string text)
    {
        private int position;
        private int depth;

        public bool Exact { get; private set; } = true;

        public decimal ParseAll()
        {
            var value = ParseSum();
            SkipSpace();
            if (position < text.Length)
            {
                throw Error(text[position] == ')' ? "unmatched ')'" : $"unexpected '{text[position]}'");
            }

            return value;
        }

        private decimal ParseSum()
        {
            var value = ParseProduct();
            while (true)
            {
                if (Accept('+'))
                {
                    value += ParseProduct();
                }
                else if (Accept('-'))
                {
                    value -= ParseProduct();
                }
                else
                {
                    return value;
                }
            }
        }

        private decimal ParseProduct()
        {
            var value = ParseUnary();
            while (true)
            {
                if (Accept('*'))
                {
                    value *= ParseUnary();
                }
                else if (Accept('/'))
                {
                    value /= ParseUnary();
                }
                else if (Accept('%'))
                {
                    value %= ParseUnary();
                }
                else
                {
                    return value;
                }
            }
        }

        private decimal ParseUnary()
        {
            Enter();
            try
            {
                if (Accept('-'))
                {
                    return -ParseUnary();
                }

                return Accept('+') ? ParseUnary() : ParsePower();
            }
            finally
            {
                depth--;
            }
        }

        private decimal ParsePower()
        {
            var start = Peek();
            var value = ParsePrimary();
            if (!Accept('^'))
            {
                return value;
            }

            return Power(value, ParseUnary(), start);
        }

        private decimal ParsePrimary()
        {
            SkipSpace();
            if (position >= text.Length)
            {
                throw Error("unexpected end of expression, expected a number, '(' or a function");
            }

            var c = text[position];
            if (c == '(')
            {
                position++;
                Enter();
                var value = ParseSum();
                depth--;
                Expect(')');
                return value;
            }

            if (char.IsAsciiDigit(c) || c == '.')
            {
                return ParseNumber();
            }

            if (char.IsAsciiLetter(c))
            {
                return ParseName();
            }

            throw Error($"unexpected '{c}', expected a number, '(' or a function");
        }

        private decimal ParseNumber()
        {
            var start = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (position < text.Length && text[position] == '.')
            {
                position++;
                while (position < text.Length && char.IsAsciiDigit(text[position]))
                {
                    position++;
                }
            }

            if (position == start + 1 && text[start] == '.')
            {
                throw Error("a number needs digits", start);
            }

            if (position < text.Length && text[position] is 'e' or 'E'
                && position + 1 < text.Length && (char.IsAsciiDigit(text[position + 1])
                    || (text[position + 1] is '+' or '-' && position + 2 < text.Length && char.IsAsciiDigit(text[position + 2]))))
            {
                position += 2;
                while (position < text.Length && char.IsAsciiDigit(text[position]))
                {
                    position++;
                }
            }

            var literal = text[start..position];
            if (!decimal.TryParse(literal, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value))
            {
                // Parsing failed on syntactically valid input, so the number is out of decimal's range.
                throw new OverflowException();
            }

            return value;
        }

        private decimal ParseName()
        {
            var start = position;
            while (position < text.Length && (char.IsAsciiLetterOrDigit(text[position]) || text[position] == '_'))
            {
                position++;
            }

            var name = text[start..position].ToLowerInvariant();
            SkipSpace();
            if (position >= text.Length || text[position] != '(')
            {
                return name switch
                {
                    "pi" => Inexact(Math.PI),
                    "e" => Inexact(Math.E),
                    _ => throw Error($"unknown name '{text[start..position]}' (constants: pi, e)", start),
                };
            }

            position++;
            var arguments = new List<(decimal Value, int Position)>();
            SkipSpace();
            if (!Accept(')'))
            {
                Enter();
                do
                {
                    var argumentStart = Peek();
                    arguments.Add((ParseSum(), argumentStart));
                }
                while (Accept(','));
                depth--;
                Expect(')');
            }

            return Call(name, text[start..(start + name.Length)], arguments, start);
        }

        private decimal Call(string name, string written, List<(decimal Value, int Position)> arguments, int at)
        {
            switch (name)
            {
                case "abs":
                    return Math.Abs(Single(written, arguments, at));
                case "floor":
                    return Math.Floor(Single(written, arguments, at));
                case "ceil":
                    return Math.Ceiling(Single(written, arguments, at));
                case "min" or "max":
                    if (arguments.Count == 0)
                    {
                        throw Error($"{written}() needs at least one argument", at);
                    }

                    return name == "min" ? arguments.Min(a => a.Value) : arguments.Max(a => a.Value);
                case "round":
                    if (arguments.Count is < 1 or > 2)
                    {
                        throw Error("round() takes a value and optionally a number of decimals (0 to 28)", at);
                    }

                    var decimals = arguments.Count == 2 ? arguments[1].Value : 0;
                    if (decimals != Math.Truncate(decimals) || decimals is < 0 or > 28)
                    {
                        throw Error("round()'s number of decimals must be a whole number from 0 to 28", arguments[1].Position);
                    }

                    return Math.Round(arguments[0].Value, (int)decimals, MidpointRounding.AwayFromZero);
                case "sqrt":
                    var radicand = Single(written, arguments, at);
                    if (radicand < 0)
                    {
                        throw Domain($"sqrt of a negative number ({Normalize(radicand).ToString(CultureInfo.InvariantCulture)}) is not a real number", arguments[0].Position);
                    }

                    return Inexact(Math.Sqrt((double)radicand));
                case "ln" or "log10":
                    var argument = Single(written, arguments, at);
                    if (argument <= 0)
                    {
                        throw Domain($"{written} is only defined for positive numbers", arguments[0].Position);
                    }

                    return Inexact(name == "ln" ? Math.Log((double)argument) : Math.Log10((double)argument));
                case "exp":
                    return Inexact(Math.Exp((double)Single(written, arguments, at)));
                default:
                    throw Error($"unknown function '{written}' (functions: abs, ceil, exp, floor, ln, log10, max, min, round, sqrt)", at);
            }
        }

        private decimal Single(string written, List<(decimal Value, int Position)> arguments, int at) =>
            arguments.Count == 1 ? arguments[0].Value : throw Error($"{written}() takes exactly one argument", at);

        private decimal Power(decimal value, decimal exponent, int at)
        {
            if (exponent == Math.Truncate(exponent) && Math.Abs(exponent) <= int.MaxValue)
            {
                var n = (long)Math.Abs(exponent);
                if (value == 0 && exponent < 0)
                {
                    throw new DivideByZeroException();
                }

                // Exact by repeated squaring: decimal throws on overflow, and |value| ≤ 1 never grows.
                decimal result = 1, square = value;
                while (n > 0)
                {
                    if ((n & 1) == 1)
                    {
                        result *= square;
                    }

                    n >>= 1;
                    if (n > 0)
                    {
                        square *= square;
                    }
                }

                return exponent < 0 ? 1 / result : result;
            }

            if (value < 0)
            {
                throw Domain("a negative number to a fractional power is not a real number", at);
            }

            return Inexact(Math.Pow((double)value, (double)exponent));
        }

        private decimal Inexact(double value)
        {
            Exact = false;
            if (double.IsNaN(value))
            {
                throw Domain("the result is not a real number", position);
            }

            return double.IsInfinity(value) || Math.Abs(value) > (double)decimal.MaxValue ? throw new OverflowException() : (decimal)value;
        }

        private void Enter()
        {
            if (++depth > MaxDepth)
            {
                throw Error($"nesting deeper than {MaxDepth} levels");
            }
        }

        private void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private int Peek()
        {
            SkipSpace();
            return position;
        }

        private bool Accept(char c)
        {
            SkipSpace();
            if (position < text.Length && text[position] == c)
            {
                position++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (!Accept(c))
            {
                throw Error(position < text.Length ? $"expected '{c}' but found '{text[position]}'" : $"expected '{c}' but the expression ended");
            }
        }

        private ToolException Error(string message, int? at = null) =>
            new("syntax_error", $"Syntax error at position {(at ?? position) + 1}: {message}.");

        private static ToolException Domain(string message, int at) =>
            new("domain_error", $"Math error at position {at + 1}: {message}.");
    }
}

/// <summary>A result as text (invariant culture, no exponent); <see cref="Exact"/> is false when a step was done in floating point.</summary>
public sealed record ArithmeticResult(decimal Value, bool Exact)
{
    public string Text => Value.ToString(CultureInfo.InvariantCulture);
}
