using System.Globalization;
using Junction.Admin;
using Junction.Intake;
using Junction.Observability;
using Junction.Storage;

namespace Junction.Project;

public sealed record PoisonView(long Seq, string EventId, string Status, string Reason, long Attempts, string FirstAt, string LastAt);

public sealed record PoisonPage(IReadOnlyList<PoisonView> Items, string? Next);

public sealed record PoisonRetryResult(int Retrying);

/// <summary>
/// Canonical events the projector could not project (GET /v1/project/poison) and their retry
/// (POST /v1/project/poison/retry, or /v1/project/poison/{seq}/retry): the projector takes each
/// again on its next step and drops it from the list when it projects.
/// </summary>
public static class PoisonApi
{
    public static IEndpointRouteBuilder MapPoisonApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/project/poison"));
        group.MapGet("", List).Needs(AdminRole.Viewer);
        group.MapPost("/retry", RetryAll).Needs(AdminRole.Operator);
        group.MapPost("/{seq:long}/retry", RetryOne).Needs(AdminRole.Operator);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        var limit = 100;
        if (request.Query["limit"].ToString() is { Length: > 0 } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return Problems.BadRequest("bad-limit", $"limit: expected a whole number from 1 to 1000; got '{l}'", "limit");
        }
        var after = 0L;
        if (request.Query["after"].ToString() is { Length: > 0 } a && !long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            return Problems.BadRequest("bad-cursor", $"after: expected the next value of a previous page; got '{a}'", "after");
        }
        var rows = await ((RelationalStore)store).ListPoisonAsync(after, limit, cancellationToken);
        var items = rows.Select(r => new PoisonView(r.Seq, r.EventId, r.Status, r.Reason, r.Attempts, Iso.Utc(r.FirstAt), Iso.Utc(r.LastAt))).ToList();
        var next = items.Count == limit ? items[^1].Seq.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Json(new PoisonPage(items, next), JunctionJson.Default.PoisonPage);
    }

    private static async Task<IResult> RetryAll(HttpContext http, IJunctionStore store, ProjectSignal signal, OperationsLog operations,
        CancellationToken cancellationToken) =>
        await RetryAsync(http, store, signal, operations, null, cancellationToken);

    private static async Task<IResult> RetryOne(long seq, HttpContext http, IJunctionStore store, ProjectSignal signal, OperationsLog operations,
        CancellationToken cancellationToken) =>
        await RetryAsync(http, store, signal, operations, [seq], cancellationToken);

    private static async Task<IResult> RetryAsync(HttpContext http, IJunctionStore store, ProjectSignal signal, OperationsLog operations,
        IReadOnlyList<long>? seqs, CancellationToken cancellationToken)
    {
        var n = await ((RelationalStore)store).RetryPoisonAsync(seqs, cancellationToken);
        signal.Notify();
        await operations.RecordAsync(http, "project.poison.retry", seqs is null ? "all" : seqs[0].ToString(CultureInfo.InvariantCulture),
            new System.Text.Json.Nodes.JsonObject { ["retrying"] = n }, cancellationToken);
        return TypedResults.Json(new PoisonRetryResult(n), JunctionJson.Default.PoisonRetryResult);
    }
}
