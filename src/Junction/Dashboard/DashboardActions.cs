using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Audit;
using Junction.Dispatch;
using Junction.Normalize;
using Junction.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Junction.Dashboard;

/// <summary>
/// The dashboard's only writes, all operational (R7.3): pause and resume, replay dead letters,
/// retry quarantined events, run an audit. Each is a form post with its antiforgery token from a
/// signed-in session whose role allows it (operator or admin), answered with a redirect back to
/// the page and what was done (post, redirect, get).
/// </summary>
public static class DashboardActions
{
    public static IEndpointRouteBuilder MapDashboardActions(this IEndpointRouteBuilder app)
    {
        var ui = app.MapGroup("/ui").RequireAuthorization().AddEndpointFilter(async (context, next) =>
        {
            var (_, role) = DashboardHost.Who(context.HttpContext.User);
            // The session holds its token's role by name (AdminRoles' spelling): the same rule as the admin API's.
            return AdminRoles.TryParse(role, out var have) && AdminRoles.Allows(have, AdminRole.Operator) ? await next(context) : Results.Redirect("/denied?need=operator");
        });
        ui.MapPost("/destinations/{id}/pause", PauseAsync);
        ui.MapPost("/destinations/{id}/resume", ResumeAsync);
        ui.MapPost("/dlq/replay", ReplayAsync);
        ui.MapPost("/quarantine/retry", RetryAsync);
        ui.MapPost("/audits/run", RunAuditAsync);
        ui.MapPost("/incidents/{id}/ack", (string id, HttpContext http, Alerts.IncidentActions actions, CancellationToken ct) =>
            IncidentAsync(http, id, "ack", actions.AckAsync(id, DashboardHost.Who(http.User).Name, null, ct), ct));
        ui.MapPost("/incidents/{id}/rollback", (string id, HttpContext http, Alerts.IncidentActions actions, CancellationToken ct) =>
            IncidentAsync(http, id, "rollback", actions.RollbackAsync(id, DashboardHost.Who(http.User).Name, ct), ct));
        ui.MapPost("/incidents/{id}/resolve", (string id, [FromForm] string? note, HttpContext http, Alerts.IncidentActions actions, CancellationToken ct) =>
            string.IsNullOrWhiteSpace(note)
                ? Task.FromResult(Back("/incidents", "resolving needs a note saying what was done"))
                : IncidentAsync(http, id, "resolve", actions.ResolveAsync(id, note.Trim()[..Math.Min(note.Trim().Length, 2000)], DashboardHost.Who(http.User).Name, ct), ct));
        return app;
    }

    /// <summary>The session's name and role (from its admin token at sign-in) go in the operations log, as for the API.</summary>
    private static Task RecordAsync(HttpContext http, string action, string target, JsonObject detail, CancellationToken cancellationToken)
    {
        var (name, role) = DashboardHost.Who(http.User);
        return http.RequestServices.GetRequiredService<OperationsLog>().RecordAsync(name, role, action, target, detail, cancellationToken);
    }

    private static async Task<IResult> IncidentAsync(HttpContext http, string id, string action, Task<Alerts.IncidentActionResult> act, CancellationToken cancellationToken)
    {
        var result = await act;
        if (result.Outcome is not (Alerts.IncidentOutcome.NotFound or Alerts.IncidentOutcome.Conflict))
        {
            await RecordAsync(http, $"incidents.{action}", id, new JsonObject { ["result"] = result.Detail, ["via"] = "dashboard" }, cancellationToken);
        }
        return Back("/incidents", result.Detail);
    }

    private static IResult Back(string page, string done) => Results.Redirect($"{page}?done={Uri.EscapeDataString(done)}");

    private static async Task<IResult> PauseAsync(string id, [FromForm] string? reason, HttpContext http, IJunctionStore store, Config.JunctionConfig config, CancellationToken cancellationToken)
    {
        if (!config.Destinations.ContainsKey(id)) return Back("/destinations", $"no destination {id}");
        var why = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim()[..Math.Min(reason.Trim().Length, 200)];
        var changed = await store.PauseDestinationAsync(id, why is null ? $"paused by {DashboardHost.Who(http.User).Name}" : $"{why} ({DashboardHost.Who(http.User).Name})", cancellationToken);
        await RecordAsync(http, "destinations.pause", id, new JsonObject { ["reason"] = why, ["changed"] = changed, ["via"] = "dashboard" }, cancellationToken);
        return Back("/destinations", $"{id} paused: new deliveries are held until it is resumed");
    }

    private static async Task<IResult> ResumeAsync(string id, HttpContext http, IJunctionStore store, Config.JunctionConfig config, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        if (!config.Destinations.ContainsKey(id)) return Back("/destinations", $"no destination {id}");
        var released = await store.ResumeDestinationAsync(id, cancellationToken);
        await RecordAsync(http, "destinations.resume", id, new JsonObject { ["released"] = released, ["via"] = "dashboard" }, cancellationToken);
        (services.GetService(typeof(Dispatcher)) as Dispatcher)?.Wake();
        return Back("/destinations", $"{id} resumed: {released} held deliveries released");
    }

    private static async Task<IResult> ReplayAsync([FromForm] long? id, [FromForm] string? destination, HttpContext http, IJunctionStore store,
        Config.JunctionConfig config, IServiceProvider services, CancellationToken cancellationToken)
    {
        var target = destination is { Length: > 0 } d && config.Destinations.ContainsKey(d) ? d : null;
        var filter = new ReplayFilter(id is { } one ? [one] : null, id is null ? target : null, null, null);
        var replayed = await store.ReplayDeadAsync(filter, cancellationToken);
        var detail = DispatchApi.ReplayDetail(filter, replayed);
        detail["via"] = "dashboard";
        await RecordAsync(http, "dlq.replay", filter.Destination ?? "dlq", detail, cancellationToken);
        (services.GetService(typeof(Dispatcher)) as Dispatcher)?.Wake();
        return Back("/destinations", $"{replayed} dead letter{(replayed == 1 ? "" : "s")} replayed");
    }

    private static async Task<IResult> RetryAsync([FromForm] string? rawId, HttpContext http, IJunctionStore store, NormalizeSignal signal, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var requeued = await store.RequeueQuarantinedAsync(rawId is { Length: > 0 } ? [rawId] : null, null, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        signal.Notify();
        await RecordAsync(http, "quarantine.retry", rawId is { Length: > 0 } ? rawId : "all", new JsonObject { ["requeued"] = requeued, ["via"] = "dashboard" }, cancellationToken);
        return Back("/sources", $"{requeued} quarantined event{(requeued == 1 ? "" : "s")} sent to normalize again");
    }

    private static async Task<IResult> RunAuditAsync(HttpContext http, AuditRunner runner, CancellationToken cancellationToken)
    {
        var id = await runner.StartAsync(new AuditRequest { Trigger = "dashboard" }, cancellationToken);
        await RecordAsync(http, "audits.run", id, new JsonObject { ["via"] = "dashboard" }, cancellationToken);
        return Back("/audits", $"audit {id} started; this page shows it when it finishes");
    }
}
