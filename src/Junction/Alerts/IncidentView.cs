using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Alerts;

/// <summary>An incident as the API, the CLI and the webhook notifier show it (snake_case, ISO times).</summary>
public static class IncidentView
{
    public static JsonObject ToJson(StoredIncident i, IReadOnlyList<IncidentEvent>? timeline)
    {
        ArgumentNullException.ThrowIfNull(i);
        var revenue = new JsonObject();
        foreach (var (currency, minor) in Revenue(i).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            revenue[currency] = new JsonObject { ["minor"] = minor, ["amount"] = Canonical.Money.FormatMajor(minor, currency) };
        }
        var json = new JsonObject
        {
            ["id"] = i.Id,
            ["rule"] = i.Rule,
            ["subject"] = i.Subject,
            ["status"] = i.Status,
            ["severity"] = i.Severity,
            ["summary"] = i.Summary,
            ["opened_at"] = Time(i.OpenedAt),
            ["updated_at"] = Time(i.UpdatedAt),
            ["resolved_at"] = i.ResolvedAt is { } r ? Time(r) : null,
            ["snoozed_until"] = i.SnoozedUntil is { } s ? Time(s) : null,
            ["healthy_since"] = i.HealthySince is { } h ? Time(h) : null,
            ["revenue_at_risk"] = revenue,
            ["events_affected"] = JsonNode.Parse(i.Affected),
            ["runbook"] = JsonNode.Parse(i.Runbook),
        };
        if (timeline is not null)
        {
            json["timeline"] = new JsonArray([.. timeline.Select(t => (JsonNode)new JsonObject
            {
                ["at"] = Time(t.At),
                ["kind"] = t.Kind,
                ["actor"] = t.Actor,
                ["detail"] = t.Detail,
            })]);
        }
        return json;
    }

    public static IReadOnlyDictionary<string, long> Revenue(StoredIncident i) =>
        JsonSerializer.Deserialize<Dictionary<string, long>>(i.Revenue) ?? [];

    public static string RevenueJson(IReadOnlyDictionary<string, long> revenue)
    {
        var o = new JsonObject();
        foreach (var (k, v) in revenue.OrderBy(r => r.Key, StringComparer.Ordinal)) o[k] = v;
        return o.ToJsonString();
    }

    public static string AffectedJson(IReadOnlyList<string> affected) => new JsonArray([.. affected.Select(a => (JsonNode?)JsonValue.Create(a))]).ToJsonString();

    public static string RunbookJson(Runbook? runbook, IReadOnlyList<string> notify) => new JsonObject
    {
        ["notify"] = new JsonArray([.. notify.Select(n => (JsonNode?)JsonValue.Create(n))]),
        ["rollback"] = runbook?.Rollback?.ToString(),
        ["fallback"] = runbook?.Fallback,
    }.ToJsonString();

    /// <summary>The rollback stored with the incident (<c>pause: DEST</c>), or null.</summary>
    public static RunbookAction? Rollback(StoredIncident i)
    {
        var text = JsonNode.Parse(i.Runbook)?["rollback"]?.GetValue<string>();
        if (text?.Split(':', 2, StringSplitOptions.TrimEntries) is not [var kind, var target]) return null;
        return new RunbookAction(kind, target);
    }

    private static string Time(long ms) => Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(ms));
}
