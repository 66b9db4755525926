using System.Globalization;
using System.Text.RegularExpressions;

namespace ProvisioningFleet.Simulator.Cim;

/// <summary>
/// The WQL subset the simulator answers honestly:
/// <c>SELECT * | p1, p2 FROM Class [WHERE cond]</c>, where cond combines <c>prop op literal</c>
/// (=, &lt;&gt;, !=, &lt;, &gt;, &lt;=, &gt;=, LIKE) and <c>prop IS [NOT] NULL</c> with AND, OR, NOT and
/// parentheses. String comparisons are case-insensitive, as in WMI. Anything else is rejected as an
/// invalid query rather than half-understood.
/// </summary>
internal sealed class WqlQuery
{
    private readonly Func<SimInstance, bool> _where;

    private WqlQuery(string className, IReadOnlyList<string>? properties, Func<SimInstance, bool> where, IReadOnlyList<string> referenced)
    {
        ClassName = className;
        Properties = properties;
        _where = where;
        Referenced = referenced;
    }

    public string ClassName { get; }

    /// <summary>The select list; null for <c>*</c>.</summary>
    public IReadOnlyList<string>? Properties { get; }

    /// <summary>Every property the query names (select list and condition).</summary>
    public IReadOnlyList<string> Referenced { get; }

    public bool Matches(SimInstance instance) => _where(instance);

    public static WqlQuery Parse(string text)
    {
        var parser = new Parser(Tokenize(text));
        return parser.Query();
    }

    private enum Kind { Word, String, Number, Symbol, End }

    private readonly record struct Token(Kind Kind, string Text);

    private static readonly Regex TokenPattern = new(
        @"\G\s*(?:(?<w>[A-Za-z_][A-Za-z0-9_]*)|'(?<s1>[^']*)'|""(?<s2>[^""]*)""|(?<n>-?\d+(?:\.\d+)?)|(?<y><>|!=|<=|>=|[=<>(),*]))",
        RegexOptions.Compiled);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var position = 0;
        while (true)
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
            if (position >= text.Length)
            {
                break;
            }
            var match = TokenPattern.Match(text, position);
            if (!match.Success || match.Length == 0)
            {
                throw new FormatException($"Unexpected character at position {position} in the WQL query.");
            }
            position += match.Length;
            if (match.Groups["w"].Success) tokens.Add(new Token(Kind.Word, match.Groups["w"].Value));
            else if (match.Groups["s1"].Success) tokens.Add(new Token(Kind.String, match.Groups["s1"].Value));
            else if (match.Groups["s2"].Success) tokens.Add(new Token(Kind.String, match.Groups["s2"].Value));
            else if (match.Groups["n"].Success) tokens.Add(new Token(Kind.Number, match.Groups["n"].Value));
            else tokens.Add(new Token(Kind.Symbol, match.Groups["y"].Value));
        }
        tokens.Add(new Token(Kind.End, string.Empty));
        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _index;
        private readonly List<string> _referenced = [];

        private Token Peek => tokens[_index];

        public WqlQuery Query()
        {
            ExpectKeyword("SELECT");
            List<string>? properties = null;
            if (TrySymbol("*"))
            {
                properties = null;
            }
            else
            {
                properties = [Identifier()];
                while (TrySymbol(","))
                {
                    properties.Add(Identifier());
                }
                _referenced.AddRange(properties);
            }
            ExpectKeyword("FROM");
            var className = Identifier();
            Func<SimInstance, bool> where = _ => true;
            if (TryKeyword("WHERE"))
            {
                where = Or();
            }
            if (Peek.Kind != Kind.End)
            {
                throw new FormatException($"Unexpected '{Peek.Text}' after the end of the WQL query.");
            }
            return new WqlQuery(className, properties, where, _referenced);
        }

        private Func<SimInstance, bool> Or()
        {
            var left = And();
            while (TryKeyword("OR"))
            {
                var (l, r) = (left, And());
                left = i => l(i) || r(i);
            }
            return left;
        }

        private Func<SimInstance, bool> And()
        {
            var left = Not();
            while (TryKeyword("AND"))
            {
                var (l, r) = (left, Not());
                left = i => l(i) && r(i);
            }
            return left;
        }

        private Func<SimInstance, bool> Not()
        {
            if (TryKeyword("NOT"))
            {
                var inner = Not();
                return i => !inner(i);
            }
            if (TrySymbol("("))
            {
                var inner = Or();
                ExpectSymbol(")");
                return inner;
            }
            return Comparison();
        }

        private Func<SimInstance, bool> Comparison()
        {
            var property = Identifier();
            _referenced.Add(property);
            if (TryKeyword("IS"))
            {
                var negated = TryKeyword("NOT");
                ExpectKeyword("NULL");
                return i => (Value(i, property) is null) != negated;
            }
            string op;
            if (TryKeyword("LIKE"))
            {
                op = "LIKE";
            }
            else if (Peek.Kind == Kind.Symbol && Peek.Text is "=" or "<>" or "!=" or "<" or ">" or "<=" or ">=")
            {
                op = Next().Text;
            }
            else
            {
                throw new FormatException($"Expected a comparison after '{property}'.");
            }
            var literal = Next();
            if (literal.Kind == Kind.Word && !IsKeyword(literal, "TRUE") && !IsKeyword(literal, "FALSE"))
            {
                throw new FormatException($"Expected a literal after '{property} {op}', got '{literal.Text}'.");
            }
            if (literal.Kind is Kind.Symbol or Kind.End)
            {
                throw new FormatException($"Expected a literal after '{property} {op}'.");
            }
            var expected = literal.Text;
            if (op == "LIKE")
            {
                var pattern = new Regex("^" + Regex.Escape(expected).Replace("%", ".*").Replace("_", ".") + "$",
                    RegexOptions.IgnoreCase | RegexOptions.Singleline);
                return i => Value(i, property) is { } v && pattern.IsMatch(SimInstance.FormatScalar(v));
            }
            return i => Value(i, property) is { } v && Holds(op, Compare(v, expected, literal.Kind));
        }

        private static object? Value(SimInstance instance, string property) =>
            instance.TryGet(property, out var value) ? value : null;

        private static int Compare(object value, string literal, Kind kind)
        {
            if (kind == Kind.Number && value is not string && value is IConvertible
                && decimal.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return Convert.ToDecimal(value, CultureInfo.InvariantCulture).CompareTo(number);
            }
            return string.Compare(SimInstance.FormatScalar(value), literal, StringComparison.OrdinalIgnoreCase);
        }

        private static bool Holds(string op, int comparison) => op switch
        {
            "=" => comparison == 0,
            "<>" or "!=" => comparison != 0,
            "<" => comparison < 0,
            ">" => comparison > 0,
            "<=" => comparison <= 0,
            _ => comparison >= 0,
        };

        private Token Next()
        {
            var token = tokens[_index];
            if (token.Kind != Kind.End)
            {
                _index++;
            }
            return token;
        }

        private string Identifier()
        {
            var token = Next();
            if (token.Kind != Kind.Word || IsReserved(token.Text))
            {
                throw new FormatException($"Expected a name in the WQL query, got '{token.Text}'.");
            }
            return token.Text;
        }

        private static bool IsReserved(string word) =>
            word.ToUpperInvariant() is "SELECT" or "FROM" or "WHERE" or "AND" or "OR" or "NOT" or "IS" or "NULL" or "LIKE";

        private static bool IsKeyword(Token token, string keyword) =>
            token.Kind == Kind.Word && string.Equals(token.Text, keyword, StringComparison.OrdinalIgnoreCase);

        private bool TryKeyword(string keyword)
        {
            if (!IsKeyword(Peek, keyword))
            {
                return false;
            }
            _index++;
            return true;
        }

        private void ExpectKeyword(string keyword)
        {
            if (!TryKeyword(keyword))
            {
                throw new FormatException($"Expected {keyword} in the WQL query, got '{Peek.Text}'.");
            }
        }

        private bool TrySymbol(string symbol)
        {
            if (Peek.Kind != Kind.Symbol || Peek.Text != symbol)
            {
                return false;
            }
            _index++;
            return true;
        }

        private void ExpectSymbol(string symbol)
        {
            if (!TrySymbol(symbol))
            {
                throw new FormatException($"Expected '{symbol}' in the WQL query, got '{Peek.Text}'.");
            }
        }
    }
}
