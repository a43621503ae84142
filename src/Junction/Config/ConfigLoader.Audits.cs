using System.Globalization;
using Junction.Audit;
using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary>
/// <c>audits:</c> — the revenue leak audit's window, thresholds, heal switch and schedule. Same rules
/// as the rest of the loader: every error names its key path and what was expected.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly string[] AuditKeys = ["window", "threshold", "thresholds", "delay_threshold", "heal", "schedule"];

    private static AuditSettings ReadAudits(Reader reader, YamlMappingNode root)
    {
        var node = Reader.Child(root, "audits");
        if (node is null) return AuditSettings.Default;
        if (node is not YamlMappingNode map)
        {
            reader.Error("audits", $"expected a mapping with {string.Join(", ", AuditKeys)}");
            return AuditSettings.Default;
        }
        reader.RejectUnknownKeys(map, "audits", AuditKeys);
        var settings = AuditSettings.Default;
        if (ReadDuration(reader, map, "window", "audits.window") is { } window) settings = settings with { Window = window };
        if (ReadDuration(reader, map, "delay_threshold", "audits.delay_threshold") is { } delay) settings = settings with { DelayThreshold = delay };
        if (ReadPercent(reader, map, "threshold", "audits.threshold") is { } threshold) settings = settings with { Threshold = threshold };
        switch (reader.OptionalString(map, "heal", "audits.heal"))
        {
            case null or "true":
                break;
            case "false":
                settings = settings with { Heal = false };
                break;
            case var other:
                reader.Error("audits.heal", $"expected true or false; got '{other}'");
                break;
        }
        switch (Reader.Child(map, "thresholds"))
        {
            case null:
                break;
            case YamlMappingNode thresholds:
                var byPoint = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (key, _) in thresholds.Children)
                {
                    var name = (key as YamlScalarNode)?.Value ?? "";
                    if (AuditPoints.ByName(name) is null)
                    {
                        reader.Error($"audits.thresholds.{name}", $"expected an audit point: {string.Join(", ", AuditPoints.All.Select(p => p.Name))}");
                    }
                    else if (ReadPercent(reader, thresholds, name, $"audits.thresholds.{name}") is { } t)
                    {
                        byPoint[name] = t;
                    }
                }
                settings = settings with { Thresholds = byPoint };
                break;
            default:
                reader.Error("audits.thresholds", "expected a mapping of audit point to percentage, e.g. { paid_without_access: 0.5% }");
                break;
        }
        switch (Reader.Child(map, "schedule"))
        {
            case null:
                break;
            case YamlMappingNode schedule:
                reader.RejectUnknownKeys(schedule, "audits.schedule", [.. AuditObjects.All]);
                var cadence = new Dictionary<string, TimeSpan>(settings.Schedule, StringComparer.Ordinal);
                foreach (var name in AuditObjects.All)
                {
                    if (Reader.Child(schedule, name) is null) continue;
                    if (reader.OptionalString(schedule, name, $"audits.schedule.{name}") is "off") cadence.Remove(name);
                    else if (ReadDuration(reader, schedule, name, $"audits.schedule.{name}") is { } every) cadence[name] = every;
                }
                settings = settings with { Schedule = cadence };
                break;
            default:
                reader.Error("audits.schedule", "expected a mapping like { payments: 30m, enrollments: 1h, tags: 24h }");
                break;
        }
        return settings;
    }

    /// <summary><c>1%</c>, <c>0.5%</c> (or a fraction like 0.01), as a fraction between 0 and 1.</summary>
    private static double? ReadPercent(Reader reader, YamlMappingNode map, string key, string path)
    {
        var text = reader.OptionalString(map, key, path);
        if (text is null) return null;
        var percent = text.EndsWith('%');
        if (double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            var fraction = percent ? value / 100 : value;
            if (fraction is >= 0 and <= 1) return fraction;
        }
        reader.Error(path, $"expected a percentage between 0% and 100% (e.g. 1% or 0.5%); got '{text}'");
        return null;
    }
}
