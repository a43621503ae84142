using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;
using Microsoft.AspNetCore.Hosting.Server;

namespace Junction.Audit;

/// <summary>
/// <c>GET /v1/smoke</c> lists smoke runs newest first (<c>?limit=</c>, <c>?before=</c> a started_at
/// to page on); <c>POST /v1/smoke</c> starts one on this node (202 with its id). Admin only.
/// </summary>
public static class SmokeApi
{
    public static IEndpointRouteBuilder MapSmokeApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/smoke"));
        group.MapGet("", List).Needs(AdminRole.Viewer);
        group.MapPost("", Start).Needs(AdminRole.Operator);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        var limit = 20;
        if (request.Query["limit"] is { Count: > 0 } l && (!int.TryParse(l[0], out limit) || limit is < 1 or > 200))
        {
            return Problems.BadRequest("bad-limit", "limit: expected a whole number from 1 to 200", "limit");
        }
        long? before = null;
        if (request.Query["before"] is { Count: > 0 } b)
        {
            if (!long.TryParse(b[0], out var ms)) return Problems.BadRequest("bad-before", "before: expected the next value of a previous page (Unix milliseconds)", "before");
            before = ms;
        }
        var runs = await ((RelationalStore)store).ListSmokeRunsAsync(limit, before, cancellationToken);
        var items = new JsonArray([.. runs.Select(r => (JsonNode)Run(r))]);
        return TypedResults.Json(new JsonObject
        {
            ["items"] = items,
            ["next"] = runs.Count == limit ? runs[^1].StartedAt : null,
        });
    }

    public static JsonObject Run(StoredSmokeRun r) => new()
    {
        ["id"] = r.Id,
        ["trigger"] = r.Trigger,
        ["mode"] = r.Mode,
        ["source"] = r.Source,
        ["started_at"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(r.StartedAt)),
        ["finished_at"] = r.FinishedAt is { } f ? Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(f)) : null,
        ["status"] = r.Status,
        ["failed_step"] = r.FailedStep,
        ["person_id"] = r.PersonId,
        ["steps"] = JsonNode.Parse(r.Steps),
    };

    private static async Task<IResult> Start(HttpContext http, SmokeRunner runner, IServer server, Config.JunctionConfig config, OperationsLog operations,
        CancellationToken cancellationToken)
    {
        if (config.Smoke is null)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "smoke-not-configured", "Smoke runs are not configured",
                "add a smoke: section (source, product) to the configuration");
        }
        var id = await runner.StartAsync("api", SmokeScheduler.OwnAddress(server, config.Smoke.Url), cancellationToken);
        await operations.RecordAsync(http, "smoke.run", id, new JsonObject { ["source"] = config.Smoke.Source }, cancellationToken);
        return TypedResults.Json(new JsonObject { ["id"] = id }, statusCode: StatusCodes.Status202Accepted);
    }
}
