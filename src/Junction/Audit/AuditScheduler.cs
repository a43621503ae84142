using Junction.Config;
using Junction.Storage;

namespace Junction.Audit;

/// <summary>
/// Runs each object's audit on its cadence (<c>audits.schedule</c>). Every node runs this loop; the
/// store's conditional claim lets exactly one of them run a due audit, and a run whose node died is
/// taken over when its lease ends, so a restart neither loses nor doubles one.
/// </summary>
public sealed class AuditScheduler(JunctionConfig config, IJunctionStore store, AuditRunner runner, TimeProvider time, ILogger<AuditScheduler> logger)
    : BackgroundService
{
    // How long a claimed run is its node's: a node that dies mid-run holds its object this long.
    // Its cadence, between 10 s and 30 min (a longer audit could then be started twice; none is near it).
    private static TimeSpan LeaseFor(TimeSpan cadence) =>
        cadence < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : cadence > TimeSpan.FromMinutes(30) ? TimeSpan.FromMinutes(30) : cadence;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("the scheduler needs the relational store", nameof(store));

    /// <summary>How often due objects are looked for: every 30 s, or a quarter of the shortest cadence (at least 1 s).</summary>
    public TimeSpan Poll { get; init; } = PollFor(config);

    private static TimeSpan PollFor(JunctionConfig config)
    {
        var shortest = config.Audits.Schedule.Count == 0 ? TimeSpan.FromSeconds(30) : config.Audits.Schedule.Values.Min() / 4;
        return shortest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : shortest > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : shortest;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (config.Audits.Schedule.Count == 0) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Observability.Log.AuditScheduleFailed(logger, ex);
            }
            await Task.Delay(Poll, time, stoppingToken);
        }
    }

    /// <summary>Claims and runs every due object once. Returns the audits this node ran.</summary>
    public async Task<IReadOnlyList<string>> TickAsync(CancellationToken cancellationToken)
    {
        var ran = new List<string>();
        foreach (var (name, cadence) in config.Audits.Schedule.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (!await _store.TryClaimScheduledAuditAsync(name, _owner, now, now + (long)cadence.TotalMilliseconds, (long)LeaseFor(cadence).TotalMilliseconds, cancellationToken)) continue;
            var outcome = await runner.RunAsync(new AuditRequest
            {
                Trigger = "schedule:" + name,
                Objects = new HashSet<string>(StringComparer.Ordinal) { name },
            }, cancellationToken);
            await _store.CompleteScheduledAuditAsync(name, _owner, time.GetUtcNow().ToUnixTimeMilliseconds() + (long)cadence.TotalMilliseconds, outcome.Id, cancellationToken);
            Observability.Log.ScheduledAuditRan(logger, name, outcome.Id, outcome.Status);
            ran.Add(outcome.Id);
        }
        return ran;
    }
}
