using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Junction.Admin;
using Junction.Cli;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Dispatch;

public sealed record DestinationView(
    string Id, string Type, string State, long QueueDepth, long InFlight, long Held, long Dead,
    [property: JsonPropertyName("success_rate_5m")] double? SuccessRate5m, string? LastError, double SendRate);

public sealed record DestinationsList(IReadOnlyList<DestinationView> Items);

public sealed record AttemptView(int Attempt, string StartedAt, long DurationMs, string Outcome, int? Status, string? Error);

public sealed record DeliveryView(
    long Id, string Destination, string PersonId, string Kind, string? EventId, string State, int Attempts,
    string CreatedAt, string NextAttemptAt, string? FirstAttemptAt, string? CompletedAt, string? LastError, int? LastStatus,
    string? DeadReason, string? TraceId, string? ReplayedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Request = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<AttemptView>? AttemptLog = null);

public sealed record DeliveriesPage(IReadOnlyList<DeliveryView> Items, string? Next);

public sealed record ReplayResult(int Replayed);

public sealed record PauseResult(string Destination, string State, int? Released = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DestinationsList))]
[JsonSerializable(typeof(DeliveriesPage))]
[JsonSerializable(typeof(ReplayResult))]
[JsonSerializable(typeof(PauseResult))]
public sealed partial class DispatchJson : JsonSerializerContext;

/// <summary>Admin endpoints for delivery: destination health, the task list, the DLQ and replay, pause and resume.</summary>
public static class DispatchApi
{
    public static IEndpointRouteBuilder MapDispatchApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1"));
        group.MapGet("/destinations", ListDestinations).Needs(AdminRole.Viewer);
        group.MapGet("/deliveries", ListDeliveries).Needs(AdminRole.Viewer);
        group.MapGet("/dlq", ListDlq).Needs(AdminRole.Viewer);
        group.MapPost("/dlq/replay", Replay).Needs(AdminRole.Operator);
        group.MapPost("/destinations/{id}/pause", Pause).Needs(AdminRole.Operator);
        group.MapPost("/destinations/{id}/resume", Resume).Needs(AdminRole.Operator);
        return app;
    }

    private static async Task<IResult> ListDestinations(Dispatcher dispatcher, CancellationToken cancellationToken)
    {
        var items = (await dispatcher.StatusAsync(cancellationToken)).Select(s => new DestinationView(s.Id, s.Type, s.State, s.QueueDepth,
            s.InFlight, s.Held, s.Dead, s.SuccessRate5m, s.LastError, s.SendRate)).ToList();
        return TypedResults.Json(new DestinationsList(items), DispatchJson.Default.DestinationsList);
    }

    private static async Task<IResult> ListDeliveries(HttpRequest request, IJunctionStore store, Dispatcher dispatcher, CancellationToken cancellationToken)
    {
        var state = request.Query["state"].ToString();
        if (state.Length > 0 && !DeliveryStates.All.Contains(state, StringComparer.Ordinal))
        {
            return Problems.BadRequest("bad-state", $"state: expected one of {string.Join(", ", DeliveryStates.All)}; got '{state}'", "state");
        }
        return await PageAsync(request, store, dispatcher, state.Length > 0 ? state : null, details: false, cancellationToken);
    }

    private static Task<IResult> ListDlq(HttpRequest request, IJunctionStore store, Dispatcher dispatcher, CancellationToken cancellationToken) =>
        PageAsync(request, store, dispatcher, DeliveryStates.Dead, details: true, cancellationToken);

    private static async Task<IResult> PageAsync(HttpRequest request, IJunctionStore store, Dispatcher dispatcher, string? state, bool details,
        CancellationToken cancellationToken)
    {
        var destination = request.Query["destination"].ToString();
        if (destination.Length > 0 && !dispatcher.IsKnown(destination)) return UnknownDestination(destination, "destination");
        var person = request.Query["person"].ToString();
        var afterText = request.Query["after"].ToString();
        long after = 0;
        if (afterText.Length > 0 && !long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            return Problems.BadRequest("bad-cursor", "after: expected the 'next' value of a previous page", "after");
        }
        var limitText = request.Query["limit"].ToString();
        var limit = 100;
        if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > AdminApi.MaxLimit))
        {
            return Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to {AdminApi.MaxLimit}; got '{limitText}'", "limit");
        }
        var page = await store.ListDeliveriesAsync(new DeliveryQuery(destination.Length > 0 ? destination : null, state,
            person.Length > 0 ? person : null, after, limit), cancellationToken);
        var attempts = details
            ? await store.ListDeliveryAttemptsAsync(page.Items.Select(i => i.Id).ToList(), cancellationToken)
            : null;
        var items = page.Items.Select(r => ToView(r, attempts)).ToList();
        return TypedResults.Json(new DeliveriesPage(items, page.Next?.ToString(CultureInfo.InvariantCulture)), DispatchJson.Default.DeliveriesPage);
    }

    public static DeliveryView ToView(DeliveryRow r, IReadOnlyDictionary<long, IReadOnlyList<DeliveryAttemptRecord>>? attempts) => new(
        r.Id, r.Destination, r.PersonId, r.Kind, r.EventId, r.State, r.Attempts, Ms(r.CreatedAt), Ms(r.NextAttemptAt),
        r.FirstAttemptAt is { } f ? Ms(f) : null, r.CompletedAt is { } c ? Ms(c) : null, r.LastError, r.LastStatus, r.DeadReason, r.TraceId,
        r.ReplayedAt is { } rp ? Ms(rp) : null,
        attempts is null ? null : r.Request ?? "",
        attempts is null ? null : (attempts.GetValueOrDefault(r.Id) ?? []).Select(a =>
            new AttemptView(a.Attempt, Ms(a.StartedAt), a.DurationMs, a.Outcome, a.Status, a.Error)).ToList());

    private static string Ms(long ms) => Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(ms));

    private static async Task<IResult> Replay(HttpRequest request, IJunctionStore store, Dispatcher dispatcher, TimeProvider time,
        OperationsLog operations, CancellationToken cancellationToken)
    {
        var (body, malformed) = await JsonBody.ReadAdminAsync(request, optional: false, cancellationToken);
        if (malformed is not null) return malformed;
        using (var document = JsonDocument.Parse(body!))
        {
            if (!TryParseReplay(document.RootElement, dispatcher, time.GetUtcNow(), out var filter, out var problem)) return problem!;
            var replayed = await store.ReplayDeadAsync(filter!, cancellationToken);
            if (replayed > 0) dispatcher.Wake();
            await operations.RecordAsync(request.HttpContext, "dlq.replay", filter!.Destination ?? "dlq", ReplayDetail(filter, replayed), cancellationToken);
            return TypedResults.Json(new ReplayResult(replayed), DispatchJson.Default.ReplayResult);
        }
    }

    internal static bool TryParseReplay(JsonElement root, Dispatcher dispatcher, DateTimeOffset now, out ReplayFilter? filter, out IResult? problem)
    {
        filter = null;
        problem = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = Problems.BadRequest("bad-body", "body: expected a JSON object with \"ids\" or a filter (\"destination\", \"since\", \"person\")", "body");
            return false;
        }
        List<long>? ids = null;
        string? destination = null, person = null;
        long? since = null;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "ids":
                    if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() == 0)
                    {
                        problem = Problems.BadRequest("bad-ids", "ids: expected a non-empty array of delivery ids", "ids");
                        return false;
                    }
                    ids = [];
                    foreach (var e in p.Value.EnumerateArray())
                    {
                        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var id) || id <= 0)
                        {
                            problem = Problems.BadRequest("bad-ids", $"ids: expected positive whole numbers; got {e.GetRawText()}", "ids");
                            return false;
                        }
                        ids.Add(id);
                    }
                    break;
                case "destination":
                    destination = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                    if (destination is null || !dispatcher.IsKnown(destination))
                    {
                        problem = UnknownDestination(destination ?? p.Value.GetRawText(), "destination");
                        return false;
                    }
                    break;
                case "since":
                    if (p.Value.ValueKind != JsonValueKind.String || !TryParseSince(p.Value.GetString()!, now, out var from))
                    {
                        problem = Problems.BadRequest("bad-since", $"since: expected an ISO-8601 time or 7d, 12h, 30m; got {p.Value.GetRawText()}", "since");
                        return false;
                    }
                    since = from.ToUnixTimeMilliseconds();
                    break;
                case "person":
                    person = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                    if (string.IsNullOrEmpty(person))
                    {
                        problem = Problems.BadRequest("bad-person", "person: expected a person id", "person");
                        return false;
                    }
                    break;
                default:
                    problem = Problems.BadRequest("unknown-field", $"{p.Name}: unknown field; expected ids, destination, since or person", p.Name);
                    return false;
            }
        }
        if (ids is not null && (destination ?? person) is not null || ids is not null && since is not null)
        {
            problem = Problems.BadRequest("bad-body", "ids: give either ids or a filter (destination, since, person), not both", "ids");
            return false;
        }
        if (ids is null && destination is null && since is null && person is null)
        {
            problem = Problems.BadRequest("bad-body", "body: name the dead tasks to replay with \"ids\" or a filter (\"destination\", \"since\", \"person\")", "body");
            return false;
        }
        filter = new ReplayFilter(ids, destination, since, person);
        return true;
    }

    private static async Task<IResult> Pause(string id, HttpRequest request, IJunctionStore store, Dispatcher dispatcher, OperationsLog operations,
        CancellationToken cancellationToken)
    {
        if (!dispatcher.IsKnown(id)) return UnknownDestination(id, "id");
        string? reason = null;
        var (bytes, malformed) = await JsonBody.ReadAdminAsync(request, optional: true, cancellationToken);
        if (malformed is not null) return malformed;
        if (bytes is not null)
        {
            using var body = JsonDocument.Parse(bytes);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("reason", out var r))
            {
                if (r.ValueKind != JsonValueKind.String) return Problems.BadRequest("bad-reason", "reason: expected a string", "reason");
                reason = r.GetString();
            }
        }
        var changed = await store.PauseDestinationAsync(id, reason, cancellationToken);
        await operations.RecordAsync(request.HttpContext, "destinations.pause", id,
            new JsonObject { ["reason"] = OperationsLog.Text(reason), ["changed"] = changed }, cancellationToken);
        return TypedResults.Json(new PauseResult(id, "paused"), DispatchJson.Default.PauseResult);
    }

    private static async Task<IResult> Resume(string id, HttpContext http, IJunctionStore store, Dispatcher dispatcher, OperationsLog operations,
        CancellationToken cancellationToken)
    {
        if (!dispatcher.IsKnown(id)) return UnknownDestination(id, "id");
        var released = await store.ResumeDestinationAsync(id, cancellationToken);
        dispatcher.Wake();
        await operations.RecordAsync(http, "destinations.resume", id, new JsonObject { ["released"] = released }, cancellationToken);
        return TypedResults.Json(new PauseResult(id, "resumed", released), DispatchJson.Default.PauseResult);
    }

    /// <summary>What a replay named, for the operations log (shared with <c>junction dlq replay</c>).</summary>
    internal static JsonObject ReplayDetail(ReplayFilter filter, int replayed)
    {
        var detail = new JsonObject();
        if (filter.Ids is { } ids) detail["ids"] = new JsonArray([.. ids.Take(50).Select(i => (JsonNode)i)]);
        if (filter.Ids is { Count: > 50 }) detail["ids_total"] = filter.Ids.Count;
        if (filter.Destination is { } d) detail["destination"] = d;
        if (filter.SinceMs is { } s) detail["since"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(s));
        if (filter.PersonId is { } p) detail["person"] = p;
        detail["replayed"] = replayed;
        return detail;
    }

    /// <summary><see cref="NormalizeCommands.TryParseSince"/>, without throwing on a span too large for a date.</summary>
    internal static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        try
        {
            return NormalizeCommands.TryParseSince(text, now, out since);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or OverflowException)
        {
            since = default;
            return false;
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult UnknownDestination(string id, string field) =>
        Problems.Create(StatusCodes.Status404NotFound, "unknown-destination", "Unknown destination",
            $"{field}: no destination '{id}' is configured", new Dictionary<string, object?> { ["field"] = field });
}
