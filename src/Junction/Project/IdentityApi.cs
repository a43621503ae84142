using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Project;

/// <summary>
/// Identity review: <c>GET /v1/identity/conflicts</c> lists the links the identity graph refused
/// (a merge that would break an identifier limit, or one an unauthenticated source asked for),
/// newest first, for an operator to look at (docs/identity.md).
/// </summary>
public static class IdentityApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/identity"));
        group.MapGet("/conflicts", Conflicts).Needs(AdminRole.Viewer);
        return app;
    }

    private static async Task<IResult> Conflicts(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        var limit = DefaultLimit;
        var text = request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to {MaxLimit}; got '{text}'", "limit");
        }
        var rows = await ((RelationalStore)store).ListIdentityConflictsAsync(limit, cancellationToken);
        var items = new JsonArray();
        foreach (var c in rows) items.Add(ToJson(c));
        return Results.Text(new JsonObject { ["items"] = items }.ToJsonString(), "application/json");
    }

    public static JsonObject ToJson(IdentityConflictRow c) => new()
    {
        ["seq"] = c.Seq,
        ["at"] = Iso.Utc(c.At),
        ["event_id"] = c.EventId,
        ["people"] = new JsonArray([.. c.People.Select(p => (JsonNode?)p)]),
        ["identifiers"] = new JsonArray([.. c.Identifiers.Select(i => (JsonNode?)i)]),
        ["reason"] = c.Reason,
        ["attached_to"] = c.AttachedTo,
    };
}
