using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Intake;
using Junction.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Junction.Alerts;

/// <summary>
/// <c>GET /v1/incidents</c> (<c>{"items":[…]}</c>, newest first), <c>GET /v1/incidents/{id}</c> (with its
/// timeline), and the state-changing <c>POST …/{id}/ack</c>, <c>/snooze</c> (<c>{"for":"1h"}</c>),
/// <c>/resolve</c> (<c>{"note"}</c> required) and <c>/rollback</c> (runs the runbook's action).
/// </summary>
public static class IncidentsApi
{
    // Until tokens carry names, every admin token acts as "admin" (as audit acceptances do).
    private const string Actor = "admin";
    private static readonly string[] Statuses = [IncidentStatuses.Open, IncidentStatuses.Acknowledged, IncidentStatuses.Snoozed, IncidentStatuses.Resolved];

    public static IEndpointRouteBuilder MapIncidentsApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/incidents"));
        group.MapGet("", List);
        group.MapGet("/{id}", Get);
        group.MapPost("/{id}/ack", Ack);
        group.MapPost("/{id}/snooze", Snooze);
        group.MapPost("/{id}/resolve", Resolve);
        group.MapPost("/{id}/rollback", Rollback);
        return app;
    }

    private static async Task<IResult> List(string? status, int? limit, IJunctionStore store, CancellationToken cancellationToken)
    {
        if (status is not null && Array.IndexOf(Statuses, status) < 0) return Invalid("status", $"expected one of {string.Join(", ", Statuses)}");
        if (limit is < 1 or > 1000) return Invalid("limit", "expected 1 to 1000");
        var items = new JsonArray();
        foreach (var i in await ((RelationalStore)store).ListIncidentsAsync(status, limit ?? 100, cancellationToken)) items.Add(IncidentView.ToJson(i, null));
        return TypedResults.Json(new JsonObject { ["items"] = items });
    }

    private static async Task<IResult> Get(string id, IJunctionStore store, CancellationToken cancellationToken)
    {
        var relational = (RelationalStore)store;
        if (await relational.GetIncidentAsync(id, cancellationToken) is not { } incident) return NotFound($"no incident {id}");
        return TypedResults.Json(IncidentView.ToJson(incident, await relational.IncidentTimelineAsync(id, cancellationToken)));
    }

    private static async Task<IResult> Ack(string id, HttpRequest request, IncidentActions actions, IJunctionStore store, CancellationToken cancellationToken)
    {
        var (body, problem) = await BodyAsync(request, optional: true, cancellationToken);
        if (problem is not null) return problem;
        string? note = null;
        if (body?["note"] is { } n)
        {
            if (n.GetValueKind() != JsonValueKind.String) return Invalid("note", "expected a string");
            note = n.GetValue<string>();
        }
        return await ResultAsync(id, await actions.AckAsync(id, Actor, note, cancellationToken), store, cancellationToken);
    }

    private static async Task<IResult> Snooze(string id, HttpRequest request, IncidentActions actions, IJunctionStore store, CancellationToken cancellationToken)
    {
        var (body, problem) = await BodyAsync(request, optional: false, cancellationToken);
        if (problem is not null) return problem;
        if (body?["for"] is not { } f || f.GetValueKind() != JsonValueKind.String || !State.Durations.TryParse(f.GetValue<string>(), out var span)
            || span <= TimeSpan.Zero || span > TimeSpan.FromDays(30))
        {
            return Invalid("for", "required: a duration up to 30d such as 30m, 1h or 1d");
        }
        return await ResultAsync(id, await actions.SnoozeAsync(id, span, Actor, cancellationToken), store, cancellationToken);
    }

    private static async Task<IResult> Resolve(string id, HttpRequest request, IncidentActions actions, IJunctionStore store, CancellationToken cancellationToken)
    {
        var (body, problem) = await BodyAsync(request, optional: false, cancellationToken);
        if (problem is not null) return problem;
        if (body?["note"] is not { } n || n.GetValueKind() != JsonValueKind.String || n.GetValue<string>().Trim().Length == 0)
        {
            return Invalid("note", "required: a non-empty string saying what was done (it stays on the incident's record)");
        }
        if (n.GetValue<string>().Length > 2000) return Invalid("note", "at most 2000 characters");
        return await ResultAsync(id, await actions.ResolveAsync(id, n.GetValue<string>(), Actor, cancellationToken), store, cancellationToken);
    }

    private static async Task<IResult> Rollback(string id, IncidentActions actions, IJunctionStore store, CancellationToken cancellationToken) =>
        await ResultAsync(id, await actions.RollbackAsync(id, Actor, cancellationToken), store, cancellationToken);

    private static async Task<IResult> ResultAsync(string id, IncidentActionResult result, IJunctionStore store, CancellationToken cancellationToken)
    {
        switch (result.Outcome)
        {
            case IncidentOutcome.NotFound:
                return NotFound(result.Detail);
            case IncidentOutcome.Conflict:
                return Problems.Create(StatusCodes.Status409Conflict, "incident-conflict", "Conflict", result.Detail);
            default:
                var relational = (RelationalStore)store;
                var incident = await relational.GetIncidentAsync(id, cancellationToken);
                var json = IncidentView.ToJson(incident!, await relational.IncidentTimelineAsync(id, cancellationToken));
                json["result"] = result.Detail;
                return TypedResults.Json(json);
        }
    }

    private static async Task<(JsonObject? Body, IResult? Problem)> BodyAsync(HttpRequest request, bool optional, CancellationToken cancellationToken)
    {
        var (bytes, malformed) = await JsonBody.ReadAdminAsync(request, optional, cancellationToken);
        if (malformed is not null) return (null, malformed);
        if (bytes is null) return (null, null);
        return JsonNode.Parse(bytes) is JsonObject body ? (body, null) : (null, Problems.BadRequest("bad-json", "body: expected a JSON object", "body"));
    }

    private static ProblemHttpResult NotFound(string detail) => Problems.Create(StatusCodes.Status404NotFound, "not-found", "Not found", detail);

    private static ProblemHttpResult Invalid(string field, string detail) =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-fields", "Invalid request", $"{field}: {detail}",
            new Dictionary<string, object?> { ["errors"] = new[] { new Dictionary<string, string> { ["field"] = field, ["detail"] = detail } } });
}
