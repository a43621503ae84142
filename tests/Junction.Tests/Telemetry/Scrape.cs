using System.Globalization;
using System.Text.RegularExpressions;

namespace Junction.Tests.Telemetry;

/// <summary>Reads series from a real GET /metrics (Prometheus text), waiting out the exporter's short response cache.</summary>
internal static partial class Scrape
{
    /// <summary>The value of <paramref name="name"/> whose labels include every pair in <paramref name="labels"/>; null when there is no such series.</summary>
    public static double? Value(string text, string name, params (string Key, string Value)[] labels)
    {
        foreach (Match m in Series().Matches(text))
        {
            if (m.Groups["name"].Value != name) continue;
            var found = m.Groups["labels"].Value;
            if (labels.All(l => found.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                return double.Parse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    /// <summary>Scrapes until <paramref name="done"/> holds for the text (up to <paramref name="seconds"/> of real time); fails with the last scrape.</summary>
    public static async Task<string> UntilAsync(HttpClient client, Func<string, bool> done, string what, double seconds = 15)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        var text = "";
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            text = await client.GetStringAsync("/metrics");
            if (done(text)) return text;
            await Task.Delay(100);
        }
        Assert.Fail($"/metrics never showed {what}; last scrape:\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("junction_", StringComparison.Ordinal)))}");
        return text;
    }

    /// <summary>Scrapes until the series has <paramref name="expected"/> (within a millisecond).</summary>
    public static Task<string> UntilValueAsync(HttpClient client, double expected, string name, params (string Key, string Value)[] labels) =>
        UntilAsync(client, t => Value(t, name, labels) is { } v && Math.Abs(v - expected) < 0.001,
            $"{name}{{{string.Join(',', labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} = {expected}");

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Series();
}

/// <summary>
/// Tests that assert exact values on /metrics run alone: an OpenTelemetry MeterProvider listens to
/// meters by name process-wide, so a scrape would also show (and merge) the series of any other
/// Junction the test process is running at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScrapedAlone
{
    public const string Name = "metrics scraped alone";
}
