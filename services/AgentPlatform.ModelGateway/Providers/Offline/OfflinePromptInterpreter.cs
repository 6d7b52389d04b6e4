using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentPlatform.ModelGateway.Providers.Offline;

/// <summary>
/// Reads the platform's structured prompts (see <see cref="OfflineChatClient"/> for the convention) and produces each
/// marker's natural JSON answer from the prompt text alone.
/// </summary>
internal static partial class OfflinePromptInterpreter
{
    public const string Plan = "plan";
    public const string Route = "route";
    public const string Answer = "answer";
    public const string Aggregate = "aggregate";
    public const string Judge = "judge";

    private const int MaxSubtasks = 8;

    private static readonly HashSet<string> StopWords =
    [
        "the", "and", "for", "with", "that", "this", "from", "into", "onto", "then", "than", "are", "was", "were", "will",
        "can", "could", "should", "would", "please", "you", "your", "our", "its", "their", "them", "they", "what", "which",
        "who", "whom", "how", "when", "where", "why", "all", "any", "some", "about", "also", "not", "but", "have", "has",
        "had", "does", "did", "get", "use", "using", "make", "need", "needs", "want", "each", "more", "most", "other",
        "handles", "handle", "agent", "task", "tasks",
    ];

    private static readonly (string Domain, string[] Keywords)[] Domains =
    [
        ("coding", ["code", "bug", "function", "compile", "program", "script", "api", "refactor", "test", "debug"]),
        ("research", ["search", "find", "research", "look", "compare", "investigate", "source", "web"]),
        ("math", ["calculate", "compute", "sum", "average", "percent", "total", "number", "math"]),
        ("writing", ["write", "draft", "summarize", "summarise", "email", "translate", "rewrite", "report", "letter"]),
        ("data", ["data", "csv", "table", "sql", "chart", "spreadsheet", "dataset"]),
    ];

    /// <summary>The marker kind (<c>plan</c>, <c>route</c> …) found in a system or user message, if any.</summary>
    public static string? FindMarker(IEnumerable<string> texts)
    {
        foreach (var text in texts)
        {
            if (MarkerPattern().Match(text) is { Success: true } match)
            {
                return match.Groups["kind"].Value.ToLowerInvariant();
            }
        }

        return null;
    }

    public static string RemoveMarkers(string text) => MarkerPattern().Replace(text, "").Trim();

    /// <summary>The natural answer for <paramref name="marker"/>; <paramref name="toolResult"/> is the latest tool output.</summary>
    public static JsonObject Interpret(string marker, string systemText, string userText, string? toolResult) => marker switch
    {
        Plan => InterpretPlan(systemText, userText),
        Route => InterpretRoute(systemText, userText),
        Aggregate => InterpretAggregate(userText),
        Judge => InterpretJudge(systemText, userText),
        _ => InterpretAnswer(userText, toolResult),
    };

    public static string Shorten(string text, int maxLength)
    {
        var flat = WhitespacePattern().Replace(text, " ").Trim();
        return flat.Length <= maxLength ? flat : flat[..(maxLength - 1)].TrimEnd() + "…";
    }

    public static HashSet<string> Keywords(string text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match word in WordPattern().Matches(text.ToLowerInvariant()))
        {
            var value = word.Value;
            if (value.Length < 3 || StopWords.Contains(value))
            {
                continue;
            }

            words.Add(Stem(value));
        }

        return words;
    }

    private static JsonObject InterpretPlan(string systemText, string userText)
    {
        var candidates = Candidates(systemText + "\n" + userText);
        var task = TaskText(userText);
        var clauses = ClauseSplitPattern().Split(task)
            .Select(c => LeadingConnectivePattern().Replace(c.Trim(), "").TrimEnd('.', '!', '?', ';', ',').Trim())
            .Where(c => c.Length >= 3)
            .Take(MaxSubtasks)
            .ToList();
        if (clauses.Count == 0)
        {
            clauses.Add(task.Length > 0 ? task : "answer the request");
        }

        var subtasks = new JsonArray();
        for (var i = 0; i < clauses.Count; i++)
        {
            var domain = candidates.Count > 0 ? BestCandidate(clauses[i], candidates).Id : GuessDomain(clauses[i]);
            subtasks.Add(new JsonObject
            {
                ["id"] = i + 1,
                ["description"] = clauses[i],
                ["domain"] = domain,
                ["dependsOn"] = i == 0 ? new JsonArray() : new JsonArray(i),
            });
        }

        return new JsonObject
        {
            ["goal"] = Shorten(task, 500),
            ["subtasks"] = subtasks,
            ["summary"] = $"[offline] Plan of {clauses.Count} step(s) derived from the task's clauses.",
        };
    }

    private static JsonObject InterpretRoute(string systemText, string userText)
    {
        var candidates = Candidates(systemText + "\n" + userText);
        var subtasks = NumberedLines(userText);
        if (subtasks.Count == 0)
        {
            subtasks.Add(TaskText(userText));
        }

        var routes = new JsonArray();
        foreach (var (subtask, index) in subtasks.Select((s, i) => (s, i)))
        {
            var (id, confidence, matched) = candidates.Count > 0 ? BestCandidate(subtask, candidates) : ("default", 0.1, []);
            routes.Add(new JsonObject
            {
                ["subtaskId"] = index + 1,
                ["subtask"] = subtask,
                ["agentId"] = id,
                ["confidence"] = confidence,
                ["reason"] = matched.Count > 0
                    ? $"[offline] matched keywords: {string.Join(", ", matched)}"
                    : "[offline] no keyword overlap; first candidate chosen",
            });
        }

        var first = (JsonObject)routes[0]!;
        return new JsonObject
        {
            ["agentId"] = first["agentId"]!.DeepClone(),
            ["confidence"] = first["confidence"]!.DeepClone(),
            ["reason"] = first["reason"]!.DeepClone(),
            ["routes"] = routes,
        };
    }

    private static JsonObject InterpretAnswer(string userText, string? toolResult)
    {
        var question = Section(userText, "question", "task", "query") ?? TaskText(userText);
        var context = Section(userText, "context", "sources", "documents");
        var answer = toolResult is not null
            ? $"[offline] Based on the tool result: {Shorten(toolResult, 300)}"
            : context is not null
                ? $"[offline] Based on the context: {Shorten(FirstSentence(context), 300)}"
                : $"[offline] No model is configured, so this is a deterministic placeholder answer to: {Shorten(question, 200)}";
        return new JsonObject { ["answer"] = answer, ["confidence"] = context is null && toolResult is null ? 0.2 : 0.6 };
    }

    private static JsonObject InterpretAggregate(string userText)
    {
        var results = new List<(string Source, string Text)>();
        foreach (var line in RemoveMarkers(userText).Split('\n'))
        {
            if (BulletPattern().Match(line) is { Success: true } bullet)
            {
                var body = bullet.Groups["body"].Value.Trim();
                results.Add(CandidateLinePattern().Match(line) is { Success: true } named
                    ? (named.Groups["id"].Value, named.Groups["desc"].Value.Trim())
                    : ($"result-{results.Count + 1}", body));
            }
        }

        if (results.Count == 0)
        {
            results.AddRange(ParagraphPattern().Split(TaskText(userText))
                .Where(p => p.Trim().Length > 0)
                .Select((p, i) => ($"result-{i + 1}", p.Trim())));
        }

        var summary = results.Count == 0
            ? "[offline] No sub-results to combine."
            : $"[offline] Combined {results.Count} result(s): {string.Join("; ", results.Select(r => Shorten(r.Text, 200)))}";
        return new JsonObject
        {
            ["summary"] = summary,
            ["sources"] = new JsonArray(results.Select(r => (JsonNode?)JsonValue.Create(r.Source)).ToArray()),
            ["results"] = new JsonArray(results.Select(r => (JsonNode?)new JsonObject { ["source"] = r.Source, ["result"] = r.Text }).ToArray()),
        };
    }

    private static JsonObject InterpretJudge(string systemText, string userText)
    {
        var all = systemText + "\n" + userText;
        var answer = Section(all, "answer", "response", "output", "candidate", "actual");
        var expected = Section(all, "expected", "reference", "criteria", "rubric");
        var question = Section(all, "question", "task", "input", "prompt");
        double score;
        string reason;
        if (string.IsNullOrWhiteSpace(answer))
        {
            score = 0;
            reason = "[offline] no answer found in the prompt (expected an 'Answer:' section)";
        }
        else
        {
            var reference = expected ?? question;
            var wanted = Keywords(reference ?? "");
            var found = wanted.Intersect(Keywords(answer)).Order(StringComparer.Ordinal).ToList();
            score = wanted.Count == 0 ? 0.7 : expected is not null ? (double)found.Count / wanted.Count : 0.5 + (0.5 * found.Count / wanted.Count);
            score = Math.Round(score, 2);
            reason = wanted.Count == 0
                ? "[offline] answer present; nothing to compare it with"
                : $"[offline] {found.Count} of {wanted.Count} {(expected is not null ? "expected" : "question")} keywords found in the answer";
        }

        return new JsonObject { ["score"] = score, ["passed"] = score >= 0.5, ["reason"] = reason };
    }

    private static (string Id, double Confidence, List<string> Matched) BestCandidate(string text, List<(string Id, string Description)> candidates)
    {
        var words = Keywords(text);
        var best = (candidates[0].Id, Confidence: 0.1, Matched: new List<string>());
        foreach (var (id, description) in candidates)
        {
            var matched = words.Intersect(Keywords(id.Replace('-', ' ').Replace('_', ' ') + " " + description)).Order(StringComparer.Ordinal).ToList();
            if (matched.Count > best.Matched.Count)
            {
                var confidence = Math.Round(Math.Min(0.95, 0.4 + (0.6 * matched.Count / Math.Max(1, words.Count))), 2);
                best = (id, confidence, matched);
            }
        }

        return best;
    }

    private static string GuessDomain(string text)
    {
        var words = Keywords(text);
        var (domain, hits) = Domains
            .Select(d => (d.Domain, Hits: d.Keywords.Count(k => words.Contains(Stem(k)))))
            .MaxBy(d => d.Hits);
        return hits > 0 ? domain : "general";
    }

    private static List<(string Id, string Description)> Candidates(string text) =>
        text.Split('\n')
            .Select(line => CandidateLinePattern().Match(line))
            .Where(m => m.Success)
            .Select(m => (m.Groups["id"].Value, m.Groups["desc"].Value.Trim()))
            .ToList();

    private static List<string> NumberedLines(string text) =>
        text.Split('\n')
            .Select(line => NumberedLinePattern().Match(line))
            .Where(m => m.Success)
            .Select(m => m.Groups["body"].Value.Trim())
            .ToList();

    /// <summary>The request itself: the text after a "Task:" label if there is one, without candidate lists or headers.</summary>
    private static string TaskText(string userText)
    {
        var labelled = Section(userText, "task", "question", "request");
        if (labelled is not null)
        {
            return labelled;
        }

        var lines = RemoveMarkers(userText).Split('\n')
            .Where(line => !CandidateLinePattern().IsMatch(line) && !HeaderPattern().IsMatch(line));
        return string.Join("\n", lines).Trim();
    }

    /// <summary>The text after the first "Label:" among <paramref name="labels"/>, up to the next label line.</summary>
    private static string? Section(string text, params string[] labels)
    {
        var lines = RemoveMarkers(text).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var match = LabelPattern().Match(lines[i]);
            if (!match.Success || !labels.Contains(match.Groups["label"].Value.ToLowerInvariant()))
            {
                continue;
            }

            var parts = new List<string> { match.Groups["rest"].Value };
            for (var j = i + 1; j < lines.Length && !LabelPattern().IsMatch(lines[j]); j++)
            {
                parts.Add(lines[j]);
            }

            var section = string.Join("\n", parts).Trim();
            return section.Length > 0 ? section : null;
        }

        return null;
    }

    private static string FirstSentence(string text)
    {
        var end = text.IndexOfAny(['.', '!', '?', '\n']);
        return end > 0 ? text[..(end + 1)] : text;
    }

    private static string Stem(string word)
    {
        foreach (var suffix in (string[])["ing", "ed", "es", "s"])
        {
            if (word.Length > suffix.Length + 3 && word.EndsWith(suffix, StringComparison.Ordinal))
            {
                return word[..^suffix.Length];
            }
        }

        return word;
    }

    [GeneratedRegex(@"\[agentplatform:(?<kind>plan|route|answer|aggregate|judge)\]", RegexOptions.IgnoreCase)]
    private static partial Regex MarkerPattern();

    [GeneratedRegex(@"^\s*[-*•]\s*(?<id>[A-Za-z0-9][\w.\-/]*)\s*(?::|\s[-–—]\s)\s*(?<desc>\S.*)$")]
    private static partial Regex CandidateLinePattern();

    [GeneratedRegex(@"^\s*(?:[-*•]|\d+[.)])\s+(?<body>\S.*)$")]
    private static partial Regex BulletPattern();

    [GeneratedRegex(@"^\s*\d+[.)]\s+(?<body>\S.*)$")]
    private static partial Regex NumberedLinePattern();

    [GeneratedRegex(@"^\s*[A-Za-z][\w ]{0,30}:\s*$")]
    private static partial Regex HeaderPattern();

    [GeneratedRegex(@"^\s*(?<label>[A-Za-z]+)\s*:\s*(?<rest>.*)$")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"(?<=[.!?;])\s+|\n+|,?\s+and then\s+|,\s*then\s+|;\s*", RegexOptions.IgnoreCase)]
    private static partial Regex ClauseSplitPattern();

    [GeneratedRegex(@"^(?:and\s+)?(?:then|next|finally|also|afterwards|first)\b[,\s]*", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingConnectivePattern();

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex ParagraphPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();
}
