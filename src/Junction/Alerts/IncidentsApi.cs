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
    private static readonly string[] Statuses = [IncidentStatuses.Open, IncidentStatuses.Acknowledged, IncidentStatuses.Snoozed, IncidentStatuses.Resolved];

    public static IEndpointRouteBuilder MapIncidentsApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/incidents"));
        group.MapGet("", List).Needs(AdminRole.Viewer);
        group.MapGet("/{id}", Get).Needs(AdminRole.Viewer);
        group.MapPost("/{id}/ack", Ack).Needs(AdminRole.Operator);
        group.MapPost("/{id}/snooze", Snooze).Needs(AdminRole.Operator);
        group.MapPost("/{id}/resolve", Resolve).Needs(AdminRole.Operator);
        group.MapPost("/{id}/rollback", Rollback).Needs(AdminRole.Operator);
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
        return await ResultAsync(id, await actions.AckAsync(id, Actor(request), note, cancellationToken), request, "incidents.ack", store, cancellationToken);
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
        return await ResultAsync(id, await actions.SnoozeAsync(id, span, Actor(request), cancellationToken), request, "incidents.snooze", store, cancellationToken);
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
        return await ResultAsync(id, await actions.ResolveAsync(id, n.GetValue<string>(), Actor(request), cancellationToken), request, "incidents.resolve", store, cancellationToken);
    }

    private static async Task<IResult> Rollback(string id, HttpRequest request, IncidentActions actions, IJunctionStore store, CancellationToken cancellationToken) =>
        await ResultAsync(id, await actions.RollbackAsync(id, Actor(request), cancellationToken), request, "incidents.rollback", store, cancellationToken);

    /// <summary>Who acts: the admin token's name (never the token).</summary>
    private static string Actor(HttpRequest request) => AdminAuth.Current(request.HttpContext)?.Name ?? "admin";

    private static async Task<IResult> ResultAsync(string id, IncidentActionResult result, HttpRequest request, string action, IJunctionStore store,
        CancellationToken cancellationToken)
    {
        if (result.Outcome is not (IncidentOutcome.NotFound or IncidentOutcome.Conflict))
        {
            await request.HttpContext.RequestServices.GetRequiredService<OperationsLog>()
                .RecordAsync(request.HttpContext, action, id, new JsonObject { ["result"] = result.Detail }, cancellationToken);
        }
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
