using Junction.Config;
using Junction.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Junction.Audit;

/// <summary>
/// Runs the smoke test on <c>smoke.schedule</c> (default daily) against this node's own address.
/// Elected like the scheduled audits (the store's conditional claim on the <c>smoke</c> row), so one
/// node of several runs it, and a run whose node died is taken over when its lease ends. Also keeps
/// <c>junction_smoke_last_success_timestamp</c> current with runs made elsewhere (the CLI, other nodes).
/// </summary>
public sealed class SmokeScheduler(JunctionConfig config, IJunctionStore store, SmokeRunner runner, AuditMetrics metrics, IServer server, TimeProvider time,
    ILogger<SmokeScheduler> logger) : BackgroundService
{
    public const string ScheduleObject = "smoke";
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("the smoke scheduler needs the relational store", nameof(store));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (config.Smoke is not { } smoke) return;
        var poll = smoke.Schedule is { } every ? TimeSpan.FromTicks(Math.Clamp(every.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute)) : TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await _store.LastSmokeSuccessAsync(stoppingToken) is { } last) metrics.SmokeSucceeded(DateTimeOffset.FromUnixTimeMilliseconds(last));
                if (smoke.Schedule is { } cadence) await TickAsync(smoke, cadence, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Observability.Log.SmokeScheduleFailed(logger, ex);
            }
            await Task.Delay(poll, time, stoppingToken);
        }
    }

    private async Task TickAsync(SmokeSettings smoke, TimeSpan cadence, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // A run takes at most its seven steps' timeouts; the lease outlives it, so no second node starts one meanwhile.
        var lease = (long)(smoke.StepTimeout.TotalMilliseconds * 7) + 60_000;
        if (!await _store.TryClaimScheduledAuditAsync(ScheduleObject, _owner, now, now + (long)cadence.TotalMilliseconds, lease, cancellationToken)) return;
        var outcome = await runner.RunAsync("schedule", OwnAddress(server, smoke.Url), null, cancellationToken);
        await _store.CompleteScheduledAuditAsync(ScheduleObject, _owner, time.GetUtcNow().ToUnixTimeMilliseconds() + (long)cadence.TotalMilliseconds, outcome.Id, cancellationToken);
    }

    /// <summary>Where this node answers, as a client on the same machine reaches it (a wildcard bind becomes loopback).</summary>
    public static Uri OwnAddress(IServer server, Uri fallback)
    {
        ArgumentNullException.ThrowIfNull(server);
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? fallback.ToString();
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::") uri.Host = "127.0.0.1";
        return uri.Uri;
    }
}
