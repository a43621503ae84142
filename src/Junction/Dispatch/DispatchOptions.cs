namespace Junction.Dispatch;

/// <summary>Engine settings shared by every destination (per-destination ones live in <see cref="DestinationConfig"/>).</summary>
public sealed class DispatchOptions
{
    /// <summary>Names this node's leases.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How long a claim is held; a task whose worker vanished is reclaimed after it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Most tasks claimed (and sent concurrently, one per person) per destination per round.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Consecutive transient failures that open a destination's circuit.</summary>
    public int BreakerThreshold { get; set; } = 5;

    /// <summary>How long an open circuit waits before it lets one probe through.</summary>
    public TimeSpan BreakerOpenFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cap on one backoff step.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Retry-After when a 429 gives none.</summary>
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest sleep between looks at the outbox (new drafts also wake the loop through <see cref="Dispatcher.Wake"/>).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The source of backoff jitter (tests pin it).</summary>
    public Random Jitter { get; set; } = Random.Shared;
}
