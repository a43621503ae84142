using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Junction.Config;
using Junction.Observability;
using Junction.Intake;
using Junction.Storage;

namespace Junction.Admin;

public sealed record RawEventItem(string Id, string Source, string DedupKey, string ReceivedAt, string TraceId, string BodySha256);

public sealed record RawEventsPage(IReadOnlyList<RawEventItem> Items, string? Next);

public sealed record RejectionItem(string Source, string Reason, string Detail, string ReceivedAt, IReadOnlyDictionary<string, string> Headers);

public sealed record RejectionsPage(IReadOnlyList<RejectionItem> Items);

public sealed record HealthStatus(string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Engine = null);

/// <summary>The authenticated admin API: what the log holds and what was refused.</summary>
public static class AdminApi
{
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1"));
        group.MapGet("/raw-events", ListRawEvents).Needs(AdminRole.Viewer);
        group.MapGet("/rejections", ListRejections).Needs(AdminRole.Viewer);
        return app;
    }

    private static async Task<IResult> ListRawEvents(HttpRequest request, IJunctionStore store, JunctionConfig config, CancellationToken cancellationToken)
    {
        var source = request.Query["source"].ToString();
        var after = request.Query["after"].ToString();
        if (!TryLimit(request, out var limit, out var problem)) return problem!;
        if (source.Length > 0 && !config.Sources.ContainsKey(source))
        {
            return Problems.BadRequest("unknown-source", $"source: no source '{source}' is configured", "source");
        }
        if (after.Length > 0 && !store.IsValidCursor(after))
        {
            return Problems.BadRequest("bad-cursor", "after: expected the 'next' value of a previous page", "after");
        }

        var page = await store.ListRawAsync(source.Length > 0 ? source : null, after.Length > 0 ? after : null, limit, cancellationToken);
        var items = page.Items.Select(s => new RawEventItem(s.Id, s.Source, s.DedupKey, Iso.Utc(s.ReceivedAt), s.TraceId, s.BodySha256)).ToList();
        return TypedResults.Json(new RawEventsPage(items, page.Next), JunctionJson.Default.RawEventsPage);
    }

    private static async Task<IResult> ListRejections(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        if (!TryLimit(request, out var limit, out var problem)) return problem!;
        var source = request.Query["source"].ToString();
        var rows = await store.ListRejectionsAsync(source.Length > 0 ? source : null, limit, cancellationToken);
        var items = rows.Select(r => new RejectionItem(r.Source, r.Reason, r.Detail, Iso.Utc(r.ReceivedAt),
            JsonSerializer.Deserialize(r.HeadersJson, JunctionJson.Default.DictionaryStringString) ?? [])).ToList();
        return TypedResults.Json(new RejectionsPage(items), JunctionJson.Default.RejectionsPage);
    }

    private static bool TryLimit(HttpRequest request, out int limit, out IResult? problem)
    {
        problem = null;
        limit = 100;
        var text = request.Query["limit"].ToString();
        if (text.Length == 0) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit) return true;
        problem = Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to {MaxLimit}; got '{text}'", "limit");
        return false;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Json(new HealthStatus("up"), JunctionJson.Default.HealthStatus));
        app.MapGet("/readyz", async Task<IResult> (IJunctionStore store, CancellationToken cancellationToken) =>
            await store.PingAsync(cancellationToken)
                ? TypedResults.Json(new HealthStatus("ready", store.Engine), JunctionJson.Default.HealthStatus)
                : Problems.Create(StatusCodes.Status503ServiceUnavailable, "store-unreachable", "Not ready",
                    $"The {store.Engine} store does not answer."));
        return app;
    }
}
