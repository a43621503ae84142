using System.Globalization;
using System.Text.Json;
using Junction.Admin;
using Junction.Config;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Normalize;

public sealed record NormalizationView(string Status, string? Reason, string? ProviderType, int Attempts, string? NextAttemptAt, int EventCount);

public sealed record EventsPage(IReadOnlyList<JsonElement> Items, string? Next, NormalizationView? Normalization = null);

public sealed record QuarantineView(string RawId, string Source, string? ProviderType, string Status, string Reason, string DedupKey,
    string ReceivedAt, string UpdatedAt, int Attempts, string? NextAttemptAt);

public sealed record QuarantinePage(IReadOnlyList<QuarantineView> Items, string? Next);

public sealed record RetryResult(int Requeued, IReadOnlyList<RetriedItem> Items);

public sealed record RetriedItem(string RawId, string Status, string? Reason, int EventCount);

public sealed record DriftPathView(string Path, long SeenCount, string FirstSeen, string LastSeen, string SampleRawId);

public sealed record DriftChangeView(string Change, string Path, string DetectedAt, string SampleRawId);

public sealed record DriftTypeView(string Source, string ProviderType, long EventsSeen, IReadOnlyList<DriftPathView> Paths, IReadOnlyList<DriftChangeView> Changes);

public sealed record DriftReport(IReadOnlyList<DriftTypeView> Items);

/// <summary>Canonical events, quarantine (with retry) and the drift report, for the admin API.</summary>
public static class NormalizeApi
{
    public static IEndpointRouteBuilder MapNormalizeApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1"));
        group.MapGet("/events", ListEvents).Needs(AdminRole.Viewer);
        group.MapGet("/quarantine", ListQuarantine).Needs(AdminRole.Viewer);
        group.MapPost("/quarantine/{rawId}/retry", RetryOne).Needs(AdminRole.Operator);
        group.MapPost("/quarantine/retry", RetryMany).Needs(AdminRole.Operator);
        group.MapGet("/drift", Drift).Needs(AdminRole.Viewer);
        return app;
    }

    private static async Task<IResult> ListEvents(HttpRequest request, IJunctionStore store, JunctionConfig config, CancellationToken cancellationToken)
    {
        var rawId = Query(request, "raw_id");
        var source = Query(request, "source");
        var type = Query(request, "type");
        if (!TryPaging(request, out var limit, out var after, out var problem)) return problem!;
        if (source is not null && !config.Sources.ContainsKey(source))
        {
            return Problems.BadRequest("unknown-source", $"source: no source '{source}' is configured", "source");
        }
        // The outcome first, then the events: they commit together, so an outcome that says mapped
        // is never shown beside an event list read before that commit.
        NormalizationView? view = null;
        if (rawId is not null)
        {
            view = await store.GetNormalizationAsync(rawId, cancellationToken) is { } state
                ? View(state)
                : await store.GetRawAsync(rawId, cancellationToken) is not null
                    ? new NormalizationView("new", "received, not normalized yet", null, 0, null, 0)
                    : null;
            if (view is null)
            {
                return Problems.Create(StatusCodes.Status404NotFound, "unknown-raw-event", "Unknown raw event", $"raw_id: no raw event '{rawId}'");
            }
        }
        var page = await store.ListCanonicalAsync(rawId, source, type, after, limit, cancellationToken);
        var items = page.Items.Select(r => JsonDocument.Parse(r.Json).RootElement).ToList();
        return TypedResults.Json(new EventsPage(items, page.Next, view), JunctionJson.Default.EventsPage);
    }

    private static NormalizationView View(NormalizationState s) => new(
        s.Status, s.Reason, s.ProviderType, s.Attempts,
        s.NextAttemptAt is { } at ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(at)) : null, s.EventCount);

    private static async Task<IResult> ListQuarantine(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        if (!TryPaging(request, out var limit, out var after, out var problem)) return problem!;
        var status = Query(request, "status") ?? NormalizationStatus.Quarantined;
        if (status is not (NormalizationStatus.Quarantined or NormalizationStatus.Pending))
        {
            return Problems.BadRequest("bad-status", $"status: expected quarantined or pending; got '{status}'", "status");
        }
        var (items, next) = await store.ListByStatusAsync(status, Query(request, "source"), after, limit, cancellationToken);
        return TypedResults.Json(new QuarantinePage(items.Select(ToView).ToList(), next), JunctionJson.Default.QuarantinePage);
    }

    public static QuarantineView ToView(QuarantineItem q) => new(
        q.State.RawId, q.State.Source, q.State.ProviderType, q.State.Status, q.State.Reason ?? "", q.DedupKey,
        Iso.Utc(q.ReceivedAt), Iso.Utc(q.State.UpdatedAt), q.State.Attempts,
        q.State.NextAttemptAt is { } at ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(at)) : null);

    private static async Task<IResult> RetryOne(string rawId, HttpContext http, IJunctionStore store, NormalizeSignal signal, TimeProvider time,
        OperationsLog operations, CancellationToken cancellationToken)
    {
        var requeued = await store.RequeueQuarantinedAsync([rawId], null, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        if (requeued == 0)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not-quarantined", "Not in quarantine",
                $"rawId: '{rawId}' is not a quarantined raw event (see GET /v1/quarantine)");
        }
        signal.Notify();
        await operations.RecordAsync(http, "quarantine.retry", rawId, new System.Text.Json.Nodes.JsonObject { ["requeued"] = requeued }, cancellationToken);
        var state = await WaitSettledAsync(store, rawId, time, cancellationToken);
        return TypedResults.Json(new RetryResult(1, [new RetriedItem(rawId, state?.Status ?? NormalizationStatus.Pending, state?.Reason, state?.EventCount ?? 0)]),
            JunctionJson.Default.RetryResult);
    }

    private static async Task<IResult> RetryMany(HttpRequest request, IJunctionStore store, NormalizeSignal signal, TimeProvider time,
        OperationsLog operations, CancellationToken cancellationToken)
    {
        var source = Query(request, "source");
        var requeued = await store.RequeueQuarantinedAsync(null, source, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        signal.Notify();
        await operations.RecordAsync(request.HttpContext, "quarantine.retry", source ?? "all",
            new System.Text.Json.Nodes.JsonObject { ["requeued"] = requeued }, cancellationToken);
        return TypedResults.Json(new RetryResult(requeued, []), JunctionJson.Default.RetryResult);
    }

    /// <summary>Waits briefly for the normalizer to take a requeued event, so the answer says how the retry went.</summary>
    private static async Task<NormalizationState?> WaitSettledAsync(IJunctionStore store, string rawId, TimeProvider time, CancellationToken cancellationToken)
    {
        NormalizationState? state = null;
        for (var i = 0; i < 100; i++)
        {
            state = await store.GetNormalizationAsync(rawId, cancellationToken);
            if (state is { Status: not NormalizationStatus.Pending }) return state;
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
        return state;
    }

    private static async Task<IResult> Drift(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        var state = await store.LoadDriftAsync(cancellationToken);
        var changes = (await store.ListDriftChangesAsync(cancellationToken)).ToLookup(c => (c.Source, c.ProviderType));
        var source = Query(request, "source");
        var items = state
            .Where(kv => source is null || kv.Key.Source == source)
            .OrderBy(kv => kv.Key.Source, StringComparer.Ordinal).ThenBy(kv => kv.Key.ProviderType, StringComparer.Ordinal)
            .Select(kv => new DriftTypeView(kv.Key.Source, kv.Key.ProviderType, kv.Value.EventsSeen,
                kv.Value.Paths.OrderBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => new DriftPathView(p.Key, p.Value.SeenCount, Iso.Utc(p.Value.FirstSeen), Iso.Utc(p.Value.LastSeen), p.Value.SampleRawId)).ToList(),
                changes[(kv.Key.Source, kv.Key.ProviderType)]
                    .Select(c => new DriftChangeView(c.Change, c.Path, Iso.Utc(c.DetectedAt), c.SampleRawId)).ToList()))
            .ToList();
        return TypedResults.Json(new DriftReport(items), JunctionJson.Default.DriftReport);
    }

    private static string? Query(HttpRequest request, string name) =>
        request.Query[name].ToString() is { Length: > 0 } v ? v : null;

    private static bool TryPaging(HttpRequest request, out int limit, out long after, out IResult? problem)
    {
        problem = null;
        limit = 100;
        after = 0;
        var text = request.Query["limit"].ToString();
        if (text.Length > 0 && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= AdminApi.MaxLimit))
        {
            problem = Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to {AdminApi.MaxLimit}; got '{text}'", "limit");
            return false;
        }
        var cursor = request.Query["after"].ToString();
        if (cursor.Length > 0 && !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            problem = Problems.BadRequest("bad-cursor", "after: expected the 'next' value of a previous page", "after");
            return false;
        }
        return true;
    }
}
