using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Junction.Admin;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Audit;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoredReport))]
public sealed partial class AuditJson : JsonSerializerContext;

/// <summary>
/// <c>POST /v1/audits</c> (start one: 202 with its id), <c>GET /v1/audits</c>, <c>GET /v1/audits/{id}</c>
/// (the report with every finding and its heal), <c>POST /v1/audits/findings/{id}/accept</c>.
/// </summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/audits"));
        group.MapPost("", Start).Needs(AdminRole.Operator);
        group.MapGet("", List).Needs(AdminRole.Viewer);
        group.MapGet("/{id}", Get).Needs(AdminRole.Viewer);
        group.MapPost("/findings/{id}/accept", Accept).Needs(AdminRole.Operator);
        return app;
    }

    private static async Task<IResult> Start(HttpRequest request, AuditRunner runner, TimeProvider time, OperationsLog operations, CancellationToken cancellationToken)
    {
        TimeSpan? window = null;
        bool? heal = null;
        var (bytes, malformed) = await JsonBody.ReadAdminAsync(request, optional: true, cancellationToken);
        if (malformed is not null) return malformed;
        if (bytes is not null)
        {
            if (JsonNode.Parse(bytes) is not JsonObject body) return Problems.BadRequest("bad-json", "body: expected a JSON object such as {\"since\":\"7d\",\"heal\":false}", "body");
            if (body["since"] is { } since)
            {
                if (since.GetValueKind() != JsonValueKind.String || !State.Durations.TryParse(since.GetValue<string>(), out var w))
                {
                    return Invalid("since", "expected a duration such as 7d, 12h or 30m");
                }
                window = w;
            }
            if (body["heal"] is { } h)
            {
                if (h.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) return Invalid("heal", "expected true or false");
                heal = h.GetValue<bool>();
            }
        }
        var id = await runner.StartAsync(new AuditRequest { Trigger = "api", Window = window, Heal = heal }, cancellationToken);
        await operations.RecordAsync(request.HttpContext, "audits.run", id, new JsonObject
        {
            ["since"] = window is { } span ? State.Durations.Format(span) : null, ["heal"] = heal,
        }, cancellationToken);
        return TypedResults.Json(new JsonObject { ["id"] = id }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> List(IJunctionStore store, CancellationToken cancellationToken)
    {
        var items = new JsonArray();
        foreach (var audit in await ((RelationalStore)store).ListAuditsAsync(100, cancellationToken)) items.Add(Report(audit, null));
        return TypedResults.Json(new JsonObject { ["items"] = items });
    }

    private static async Task<IResult> Get(string id, IJunctionStore store, CancellationToken cancellationToken)
    {
        var relational = (RelationalStore)store;
        if (await relational.GetAuditAsync(id, cancellationToken) is not { } audit) return NotFound($"no audit {id}");
        return TypedResults.Json(Report(audit, await relational.FindingsAsync(id, null, cancellationToken)));
    }

    private static async Task<IResult> Accept(string id, HttpRequest request, IJunctionStore store, OperationsLog operations, CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var findingId)) return NotFound($"no finding {id}");
        var (bytes, malformed) = await JsonBody.ReadAdminAsync(request, optional: false, cancellationToken);
        if (malformed is not null) return malformed;
        var body = JsonNode.Parse(bytes!) as JsonObject;
        if (body?["note"] is not { } noteNode || noteNode.GetValueKind() != JsonValueKind.String || noteNode.GetValue<string>().Trim().Length == 0)
        {
            return Invalid("note", "required: a non-empty string saying why the finding is accepted");
        }
        var note = noteNode.GetValue<string>().Trim();
        if (note.Length > 1000) return Invalid("note", "at most 1000 characters");
        // The finding keeps who accepted it: the token's name, as in the operations log.
        var actor = AdminAuth.Current(request.HttpContext)?.Name ?? "admin";
        if (!await ((RelationalStore)store).AcceptFindingAsync(findingId, note, actor, cancellationToken)) return NotFound($"no finding {id}");
        await operations.RecordAsync(request.HttpContext, "audits.findings.accept", findingId.ToString(CultureInfo.InvariantCulture),
            new JsonObject { ["note"] = OperationsLog.Text(note) }, cancellationToken);
        return TypedResults.Json(new JsonObject { ["id"] = findingId, ["accepted"] = true, ["note"] = note });
    }

    /// <summary>The contract's report shape; findings only when given (the list shows the figures alone).</summary>
    public static JsonObject Report(StoredAudit audit, IReadOnlyList<StoredFinding>? findings)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var stored = audit.Report is { } json ? JsonSerializer.Deserialize(json, AuditJson.Default.StoredReport) : null;
        var points = new JsonArray();
        foreach (var point in AuditPoints.All)
        {
            var figures = stored?.Points.FirstOrDefault(p => p.Point == point.Number);
            if (stored is not null && figures is null) continue;
            var o = new JsonObject
            {
                ["point"] = point.Number,
                ["name"] = point.Name,
                ["checked"] = figures?.Checked ?? 0,
                ["mismatches"] = figures?.Mismatches ?? 0,
                ["rate"] = figures is { Checked: > 0 } ? Math.Round((double)figures.Mismatches / figures.Checked, 6) : 0,
                ["threshold"] = figures?.Threshold,
                ["severity"] = point.Severity,
                ["revenue_at_risk"] = new JsonObject(figures?.RevenueAtRisk.OrderBy(r => r.Key, StringComparer.Ordinal)
                    .Select(r => KeyValuePair.Create(r.Key, (JsonNode?)r.Value)) ?? []),
            };
            if (findings is not null)
            {
                var list = new JsonArray();
                foreach (var f in findings.Where(f => f.Point == point.Number)) list.Add(Finding(f));
                o["findings"] = list;
            }
            points.Add(o);
        }
        var result = new JsonObject
        {
            ["id"] = audit.Id,
            ["trigger"] = audit.Trigger,
            ["started_at"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(audit.StartedAt)),
            ["finished_at"] = audit.FinishedAt is { } finished ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(finished)) : null,
            ["status"] = audit.Status,
            ["window"] = new JsonObject
            {
                ["from"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(audit.WindowFrom)),
                ["to"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(audit.WindowTo)),
            },
            ["points"] = points,
            ["api_calls"] = stored?.ApiCalls,
            ["read_errors"] = new JsonArray([.. (stored?.ReadErrors ?? []).Select(e => (JsonNode?)e)]),
            ["error"] = audit.Error,
        };
        return result;
    }

    public static JsonObject Finding(StoredFinding f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new JsonObject
        {
            ["id"] = f.Id,
            ["kind"] = f.Kind,
            ["person_id"] = f.PersonId,
            ["order_id"] = f.OrderId,
            ["destination"] = f.Destination,
            ["source"] = f.Source,
            ["expected"] = f.Expected,
            ["observed"] = f.Observed,
            ["heal"] = new JsonObject { ["action"] = f.HealAction, ["status"] = f.HealStatus, ["delivery_id"] = f.HealDeliveryId },
            ["amount"] = f.Amount,
            ["currency"] = f.Currency?.ToUpperInvariant(),
            ["accepted"] = f.AcceptedNote is not null,
            ["accepted_note"] = f.AcceptedNote,
        };
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string detail) => Problems.Create(StatusCodes.Status404NotFound, "not-found", "Not found", detail);

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Invalid(string field, string detail) =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-fields", "Invalid request", $"{field}: {detail}",
            new Dictionary<string, object?> { ["errors"] = new[] { new Dictionary<string, string> { ["field"] = field, ["detail"] = detail } } });
}
