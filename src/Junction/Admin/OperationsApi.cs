using System.Globalization;
using System.Text.Json.Nodes;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Admin;

/// <summary>GET /v1/operations: the operations log, newest first, paged by <c>before</c> (the <c>next</c> of a previous page).</summary>
public static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/operations"));
        group.MapGet("", List).Needs(AdminRole.Viewer);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, IOperationsStore store, CancellationToken cancellationToken)
    {
        var limit = 100;
        if (request.Query["limit"].ToString() is { Length: > 0 } l
            && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > AdminApi.MaxLimit))
        {
            return Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to {AdminApi.MaxLimit}; got '{l}'", "limit");
        }
        long? before = null;
        if (request.Query["before"].ToString() is { Length: > 0 } b)
        {
            if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return Problems.BadRequest("bad-before", $"before: expected the next value of a previous page; got '{b}'", "before");
            }
            before = id;
        }
        var rows = await store.ListOperationsAsync(limit, before, cancellationToken);
        var items = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Id,
            ["at"] = Iso.Utc(DateTimeOffset.FromUnixTimeMilliseconds(r.At)),
            ["actor"] = r.Actor,
            ["role"] = r.Role,
            ["action"] = r.Action,
            ["target"] = r.Target,
            ["detail"] = JsonNode.Parse(r.Detail),
        })]);
        return TypedResults.Json(new JsonObject
        {
            ["items"] = items,
            ["next"] = rows.Count == limit ? rows[^1].Id.ToString(CultureInfo.InvariantCulture) : null,
        });
    }
}
