using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPlatform.ModelGateway.Providers.Offline;

/// <summary>
/// Builds a JSON instance that validates against a JSON Schema, filling it from a loosely shaped "hint" (the offline
/// provider's natural answer) where property names match by alias and the hint fits the schema. Supports the subset
/// structured-output schemas use: types (incl. nullable type arrays), properties/required/additionalProperties,
/// items/prefixItems, minItems/maxItems, enum/const, numeric bounds (incl. exclusive and multipleOf), string lengths and
/// common formats, anyOf/oneOf (the first branch the hint fits, else the first), allOf (merged), and $ref into
/// $defs/definitions or any local JSON pointer. Not supported: <c>pattern</c> (ignored), <c>if/then/else</c>,
/// <c>not</c>, <c>dependentSchemas</c>, remote references.
/// </summary>
internal sealed class JsonSchemaInstanceGenerator
{
    private const int MaxDepth = 24;

    private const int OptionalPropertyDepth = 6;

    // Names are compared lower-case without '_' and '-'; each group lists the hint keys tried, in order.
    private static readonly string[][] AliasGroups =
    [
        ["subtasks", "steps", "tasks", "plan", "actions", "items"],
        ["routes", "assignments", "routing", "decisions", "selections", "items"],
        ["id", "subtaskid", "taskid", "stepid", "key", "index", "number"],
        ["description", "goal", "task", "subtask", "text", "instruction", "instructions", "objective", "title", "query", "question", "input", "prompt", "content"],
        ["answer", "response", "reply", "output", "result", "content", "text", "message", "finalanswer", "summary"],
        ["summary", "answer", "synthesis", "conclusion", "finalanswer", "result", "output", "text", "content"],
        ["agentid", "agent", "subagentid", "subagent", "agentname", "assignee", "target", "handler", "destination", "candidate", "selectedagent", "selected", "choice", "worker"],
        ["confidence", "certainty", "probability"],
        ["score", "rating", "grade", "quality", "value"],
        ["passed", "pass", "success", "ok", "approved", "accepted", "isvalid", "valid"],
        ["reason", "rationale", "explanation", "justification", "reasoning", "feedback", "comment", "comments", "critique", "notes", "why"],
        ["domain", "category", "area", "skill", "capability", "topic", "kind", "type"],
        ["sources", "agents", "contributors", "citations", "references"],
        ["dependson", "dependencies", "after", "requires", "prerequisites"],
    ];

    private static readonly HashSet<string> FractionNames = ["score", "confidence", "rating", "grade", "quality", "probability", "certainty"];

    private readonly JsonElement root;

    private readonly byte[] seed;

    private JsonSchemaInstanceGenerator(JsonElement root, byte[] seed)
    {
        this.root = root;
        this.seed = seed;
    }

    /// <summary>An instance of <paramref name="schema"/>; <paramref name="seed"/> decides choices the hint leaves open.</summary>
    public static JsonNode? Generate(JsonElement schema, JsonNode? hint, byte[] seed) =>
        new JsonSchemaInstanceGenerator(schema, seed).Generate(schema, hint, null, "#", 0);

    private JsonNode? Generate(JsonElement schema, JsonNode? hint, string? name, string path, int depth)
    {
        if (schema.ValueKind == JsonValueKind.True || (schema.ValueKind == JsonValueKind.Object && !schema.EnumerateObject().Any()))
        {
            return hint?.DeepClone() ?? JsonValue.Create(DefaultText(name, path));
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (schema.TryGetProperty("$ref", out var reference) && reference.GetString() is { } refText && Resolve(refText) is { } target)
        {
            return depth > MaxDepth ? null : Generate(target, hint, name, path, depth + 1);
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }

        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
        {
            return JsonNode.Parse(PickEnum(values, hint, path).GetRawText());
        }

        if (schema.TryGetProperty("allOf", out var allOf) && allOf.ValueKind == JsonValueKind.Array)
        {
            return Generate(MergeAllOf(schema, allOf), hint, name, path, depth + 1);
        }

        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(keyword, out var branches) && branches.ValueKind == JsonValueKind.Array && branches.GetArrayLength() > 0)
            {
                var branch = branches.EnumerateArray().FirstOrDefault(b => hint is not null && Fits(Deref(b), hint));
                if (branch.ValueKind == JsonValueKind.Undefined)
                {
                    branch = branches[0];
                }

                return Generate(branch, hint, name, path, depth + 1);
            }
        }

        return ChooseType(schema, hint, depth) switch
        {
            "object" => GenerateObject(schema, hint, path, depth),
            "array" => GenerateArray(schema, hint, name, path, depth),
            "string" => GenerateString(schema, hint, name, path),
            "integer" => GenerateNumber(schema, hint, name, integer: true),
            "number" => GenerateNumber(schema, hint, name, integer: false),
            "boolean" => JsonValue.Create(HintBoolean(hint) ?? true),
            "null" => null,
            _ => hint?.DeepClone() ?? JsonValue.Create(DefaultText(name, path)),
        };
    }

    private JsonObject GenerateObject(JsonElement schema, JsonNode? hint, string path, int depth)
    {
        if (hint is JsonValue scalar)
        {
            hint = new JsonObject { ["answer"] = scalar.DeepClone() };
        }

        var required = schema.TryGetProperty("required", out var req) && req.ValueKind == JsonValueKind.Array
            ? req.EnumerateArray().Select(r => r.GetString()).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                var propertyHint = Lookup(hint as JsonObject, property.Name);
                if (required.Contains(property.Name) || depth < OptionalPropertyDepth || propertyHint is not null)
                {
                    result[property.Name] = Generate(property.Value, propertyHint, property.Name, $"{path}/{property.Name}", depth + 1);
                }
            }
        }

        foreach (var missing in required.Where(r => !result.ContainsKey(r)).Order(StringComparer.Ordinal))
        {
            var extraSchema = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object
                ? additional
                : default;
            var propertyHint = Lookup(hint as JsonObject, missing);
            result[missing] = extraSchema.ValueKind == JsonValueKind.Object
                ? Generate(extraSchema, propertyHint, missing, $"{path}/{missing}", depth + 1)
                : propertyHint?.DeepClone() ?? JsonValue.Create(DefaultText(missing, path));
        }

        if (schema.TryGetProperty("minProperties", out var minProperties) && minProperties.TryGetInt32(out var min)
            && !(schema.TryGetProperty("additionalProperties", out var allowed) && allowed.ValueKind == JsonValueKind.False))
        {
            for (var i = 1; result.Count < min; i++)
            {
                result[$"extra{i}"] = DefaultText("extra", $"{path}/{i}");
            }
        }

        return result;
    }

    private JsonArray GenerateArray(JsonElement schema, JsonNode? hint, string? name, string path, int depth)
    {
        var hintItems = hint switch
        {
            JsonArray array => array.ToList(),
            null => [],
            _ => [hint],
        };
        var prefix = schema.TryGetProperty("prefixItems", out var prefixItems) && prefixItems.ValueKind == JsonValueKind.Array
            ? prefixItems.EnumerateArray().ToList()
            : [];
        var items = schema.TryGetProperty("items", out var itemsSchema) ? itemsSchema : default;
        if (items.ValueKind == JsonValueKind.Array)
        {
            prefix = items.EnumerateArray().ToList();
            items = schema.TryGetProperty("additionalItems", out var additional) ? additional : default;
        }

        var minItems = schema.TryGetProperty("minItems", out var minElement) && minElement.TryGetInt32(out var minValue) ? minValue : 0;
        var maxItems = schema.TryGetProperty("maxItems", out var maxElement) && maxElement.TryGetInt32(out var maxValue) ? maxValue : int.MaxValue;
        if (items.ValueKind == JsonValueKind.False)
        {
            maxItems = Math.Min(maxItems, prefix.Count);
        }

        var wanted = hint is null ? Math.Max(minItems, depth < OptionalPropertyDepth ? 1 : 0) : Math.Max(minItems, hintItems.Count);
        var count = Math.Min(wanted, maxItems);
        var result = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var itemSchema = i < prefix.Count ? prefix[i] : items.ValueKind == JsonValueKind.Undefined ? default : items;
            var itemHint = i < hintItems.Count ? hintItems[i] : null;
            var itemPath = $"{path}/{i}";
            result.Add(itemSchema.ValueKind == JsonValueKind.Undefined
                ? itemHint?.DeepClone() ?? JsonValue.Create(DefaultText(name, itemPath))
                : Generate(itemSchema, itemHint, Singular(name), itemPath, depth + 1));
        }

        return result;
    }

    private JsonValue GenerateString(JsonElement schema, JsonNode? hint, string? name, string path)
    {
        var format = schema.TryGetProperty("format", out var formatElement) ? formatElement.GetString() : null;
        var text = format switch
        {
            "date-time" => "2000-01-01T00:00:00Z",
            "date" => "2000-01-01",
            "time" => "00:00:00Z",
            "duration" => "PT1M",
            "email" or "idn-email" => "offline@example.com",
            "uri" or "url" or "iri" or "uri-reference" or "iri-reference" => "https://example.com/offline",
            "hostname" or "idn-hostname" => "offline.example.com",
            "ipv4" => "127.0.0.1",
            "ipv6" => "::1",
            "uuid" => new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(path + Convert.ToHexString(seed))).AsSpan(0, 16)).ToString(),
            _ => HintText(hint) ?? DefaultText(name, path),
        };

        var runes = text.EnumerateRunes().ToList();
        if (schema.TryGetProperty("maxLength", out var maxElement) && maxElement.TryGetInt32(out var maxLength) && runes.Count > maxLength)
        {
            runes = runes.Take(maxLength).ToList();
        }

        if (schema.TryGetProperty("minLength", out var minElement) && minElement.TryGetInt32(out var minLength))
        {
            while (runes.Count < minLength)
            {
                runes.Add(new Rune('.'));
            }
        }

        var builder = new StringBuilder();
        foreach (var rune in runes)
        {
            builder.Append(rune.ToString());
        }

        return JsonValue.Create(builder.ToString());
    }

    private static JsonValue GenerateNumber(JsonElement schema, JsonNode? hint, string? name, bool integer)
    {
        double? Bound(string keyword) => schema.TryGetProperty(keyword, out var b) && b.ValueKind == JsonValueKind.Number ? b.GetDouble() : null;
        var minimum = Bound("minimum");
        var maximum = Bound("maximum");
        var exclusiveMinimum = Bound("exclusiveMinimum");
        var exclusiveMaximum = Bound("exclusiveMaximum");
        var lower = Max(minimum, exclusiveMinimum is { } exMin ? exMin + (integer ? 1 : Step(exMin, exclusiveMaximum ?? maximum)) : null);
        var upper = Min(maximum, exclusiveMaximum is { } exMax ? exMax - (integer ? 1 : Step(lower ?? exMax - 2, exMax)) : null);
        if (integer)
        {
            lower = lower is { } l ? Math.Ceiling(l) : null;
            upper = upper is { } u ? Math.Floor(u) : null;
        }

        var value = HintNumber(hint);
        if (value is { } fraction && fraction is >= 0 and <= 1 && name is not null && FractionNames.Contains(Normalize(name))
            && (upper ?? 1) > 1)
        {
            var from = lower ?? 0;
            value = from + (fraction * ((upper ?? from + 1) - from));
        }

        value ??= lower is { } lo && upper is { } hi ? lo + ((hi - lo) / 2) : lower ?? (upper is { } up ? Math.Min(up, integer ? 1 : 0.5) : (integer ? 1 : 0.5));
        var v = value.Value;
        if (integer)
        {
            v = Math.Round(v, MidpointRounding.AwayFromZero);
        }

        if (schema.TryGetProperty("multipleOf", out var multipleElement) && multipleElement.TryGetDouble(out var multiple) && multiple > 0)
        {
            v = Math.Ceiling(v / multiple) * multiple;
            if (upper is { } top && v > top)
            {
                v = Math.Floor(top / multiple) * multiple;
            }
        }

        v = Math.Clamp(v, lower ?? double.MinValue, upper ?? double.MaxValue);
        return integer ? JsonValue.Create((long)Math.Round(v)) : JsonValue.Create(Math.Round(v, 6));
    }

    private static double Step(double from, double? to) => to is { } t ? Math.Min(1, (t - from) / 2) : 1;

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double? Min(double? a, double? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static string ChooseType(JsonElement schema, JsonNode? hint, int depth)
    {
        List<string> types;
        if (schema.TryGetProperty("type", out var type))
        {
            types = type.ValueKind == JsonValueKind.Array
                ? type.EnumerateArray().Select(t => t.GetString()).OfType<string>().ToList()
                : [type.GetString() ?? "string"];
        }
        else if (schema.TryGetProperty("properties", out _) || schema.TryGetProperty("required", out _) || schema.TryGetProperty("additionalProperties", out _))
        {
            types = ["object"];
        }
        else if (schema.TryGetProperty("items", out _) || schema.TryGetProperty("prefixItems", out _))
        {
            types = ["array"];
        }
        else if (schema.TryGetProperty("minimum", out _) || schema.TryGetProperty("maximum", out _))
        {
            types = ["number"];
        }
        else
        {
            return hint is null ? "string" : "any";
        }

        if (depth > MaxDepth && types.Contains("null"))
        {
            return "null";
        }

        return types.FirstOrDefault(t => hint is not null && TypeFits(t, hint))
            ?? types.FirstOrDefault(t => t != "null")
            ?? "null";
    }

    private static bool TypeFits(string type, JsonNode hint) => (type, hint.GetValueKind()) switch
    {
        ("object", JsonValueKind.Object) => true,
        ("array", JsonValueKind.Array) => true,
        ("string", JsonValueKind.String) => true,
        ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => ToDouble(hint) % 1 == 0,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        _ => false,
    };

    private static bool Fits(JsonElement schema, JsonNode hint)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type))
        {
            return false;
        }

        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Any(t => TypeFits(t.GetString() ?? "", hint))
            : TypeFits(type.GetString() ?? "", hint);
    }

    private JsonElement Deref(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var r) && r.GetString() is { } text && Resolve(text) is { } target
            ? target
            : schema;

    private JsonElement? Resolve(string reference)
    {
        if (!reference.StartsWith('#'))
        {
            return null;
        }

        var current = root;
        foreach (var rawSegment in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(rawSegment).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }

    private JsonElement MergeAllOf(JsonElement schema, JsonElement allOf)
    {
        var merged = new JsonObject();
        var properties = new JsonObject();
        var required = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in allOf.EnumerateArray().Select(Deref).Prepend(schema))
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var keyword in part.EnumerateObject())
            {
                switch (keyword.Name)
                {
                    case "allOf":
                        break;
                    case "properties" when keyword.Value.ValueKind == JsonValueKind.Object:
                        foreach (var property in keyword.Value.EnumerateObject())
                        {
                            properties[property.Name] ??= JsonNode.Parse(Deref(property.Value).GetRawText());
                        }

                        break;
                    case "required" when keyword.Value.ValueKind == JsonValueKind.Array:
                        required.UnionWith(keyword.Value.EnumerateArray().Select(r => r.GetString()).OfType<string>());
                        break;
                    default:
                        if (!merged.ContainsKey(keyword.Name))
                        {
                            merged[keyword.Name] = JsonNode.Parse(keyword.Value.GetRawText());
                        }

                        break;
                }
            }
        }

        if (properties.Count > 0)
        {
            merged["properties"] = properties;
        }

        if (required.Count > 0)
        {
            merged["required"] = new JsonArray(required.Order(StringComparer.Ordinal).Select(r => (JsonNode?)JsonValue.Create(r)).ToArray());
        }

        // Nested $refs inside merged properties were inlined above, so the merged schema stands on its own.
        return JsonSerializer.SerializeToElement(merged);
    }

    private JsonElement PickEnum(JsonElement values, JsonNode? hint, string path)
    {
        var options = values.EnumerateArray().ToList();
        if (hint is not null)
        {
            var hintText = HintText(hint);
            var exact = options.FirstOrDefault(o => hintText is not null && o.ValueKind == JsonValueKind.String
                && string.Equals(o.GetString(), hintText, StringComparison.OrdinalIgnoreCase));
            if (exact.ValueKind != JsonValueKind.Undefined)
            {
                return exact;
            }

            var same = options.FirstOrDefault(o => o.ValueKind == hint.GetValueKind() && o.GetRawText() == hint.ToJsonString());
            if (same.ValueKind != JsonValueKind.Undefined)
            {
                return same;
            }

            if (hintText is not null && options.FirstOrDefault(o => o.ValueKind == JsonValueKind.String
                && hintText.Contains(o.GetString()!, StringComparison.OrdinalIgnoreCase)) is { ValueKind: JsonValueKind.String } contained)
            {
                return contained;
            }
        }

        return options[(int)(Choice(path) % (ulong)options.Count)];
    }

    private ulong Choice(string path)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(path + Convert.ToHexString(seed)));
        return BitConverter.ToUInt64(bytes, 0);
    }

    private static JsonNode? Lookup(JsonObject? hint, string propertyName)
    {
        if (hint is null)
        {
            return null;
        }

        var wanted = Normalize(propertyName);
        foreach (var (key, value) in hint)
        {
            if (Normalize(key) == wanted)
            {
                return value;
            }
        }

        foreach (var group in AliasGroups.Where(g => g.Contains(wanted)))
        {
            foreach (var alias in group)
            {
                foreach (var (key, value) in hint)
                {
                    if (Normalize(key) == alias && value is not null)
                    {
                        return value;
                    }
                }
            }
        }

        return null;
    }

    private static string Normalize(string name) =>
        name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string? Singular(string? name) => name is { Length: > 1 } && name.EndsWith('s') ? name[..^1] : name;

    private static string? HintText(JsonNode? hint) => hint switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonValue value => value.ToJsonString(),
        JsonObject obj => HintText(Lookup(obj, "description") ?? Lookup(obj, "answer") ?? Lookup(obj, "agentid")) ?? obj.ToJsonString(),
        JsonArray array => string.Join("; ", array.Select(HintText).OfType<string>()),
        _ => hint.ToJsonString(),
    };

    private static double? HintNumber(JsonNode? hint) => hint switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => ToDouble(value),
        JsonValue value when value.GetValueKind() == JsonValueKind.True => 1,
        JsonValue value when value.GetValueKind() == JsonValueKind.False => 0,
        JsonValue value when value.GetValueKind() == JsonValueKind.String
            && double.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static bool? HintBoolean(JsonNode? hint) => hint?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => ToDouble(hint) != 0,
        JsonValueKind.String => bool.TryParse(hint.GetValue<string>(), out var parsed) ? parsed : null,
        _ => null,
    };

    private static double ToDouble(JsonNode number) => double.Parse(number.ToJsonString(), CultureInfo.InvariantCulture);

    private static string DefaultText(string? name, string path)
    {
        var index = path.Split('/').LastOrDefault(s => int.TryParse(s, CultureInfo.InvariantCulture, out _));
        var label = string.IsNullOrEmpty(name) ? "value" : name;
        return index is null ? $"offline {label}" : $"offline {label} {int.Parse(index, CultureInfo.InvariantCulture) + 1}";
    }
}
